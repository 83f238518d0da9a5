"""E-mail campaigns ("Emailing"): the campaign, its recipients (the durable outbox), suppressed addresses, images."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.contacts import ClientBase, Tag
from app.models.mixins import SoftDeleteMixin, TenantMixin, TimestampMixin, utcnow

#: draft -> scheduled -> sending <-> paused -> done (or cancelled)
CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "paused", "done", "cancelled")
#: one recipient row of the outbox
RECIPIENT_STATUSES = ("queued", "sending", "sent", "failed", "bounced", "unsubscribed")
#: why an address of a company gets no more campaigns
SUPPRESSION_REASONS = ("unsubscribed", "bounced")

campaign_base = Table(
    "campaign_base",
    Model.metadata,
    Column("campaign_id", Integer, ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    Column("base_id", Integer, ForeignKey("client_base.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_campaign_base_base_campaign", "base_id", "campaign_id"),
)

campaign_tag = Table(
    "campaign_tag",
    Model.metadata,
    Column("campaign_id", Integer, ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_campaign_tag_tag_campaign", "tag_id", "campaign_id"),
)


class Campaign(TenantMixin, SoftDeleteMixin, TimestampMixin, Model):
    """One mailing to the contacts of mailing bases (optionally narrowed to tags)."""

    __tablename__ = "campaign"
    __table_args__ = (
        Index("ix_campaign_company_created", "company_id", "created_at", "id"),
        # the scheduler looks for campaigns whose time has come (every company): not led by company_id
        Index("ix_campaign_due", "status", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    #: sanitised HTML with personal fields ({imie}, {nazwisko}, {firma}), as written in the editor
    body_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    mailbox_id: Mapped[Optional[int]] = mapped_column(ForeignKey("mailbox.id", ondelete="SET NULL"))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")
    #: when sending starts (UTC); None for a draft
    scheduled_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: the unsubscribe page's address with a ``{token}`` slot (the web request that scheduled it made it)
    unsubscribe_url: Mapped[Optional[str]] = mapped_column(String(500))
    #: how many contacts were left out when the list was built, per reason (JSON object)
    excluded_json: Mapped[Optional[str]] = mapped_column(Text)

    bases: Mapped[list[ClientBase]] = relationship(secondary=campaign_base, lazy="selectin")
    tags: Mapped[list[Tag]] = relationship(secondary=campaign_tag, lazy="selectin")

    def __str__(self) -> str:
        return self.subject


class CampaignRecipient(TenantMixin, Model):
    """One message of a campaign: a row of the durable outbox, claimed by the sender with a lease."""

    __tablename__ = "campaign_recipient"
    __table_args__ = (
        Index("ix_campaign_recipient_company_campaign", "company_id", "campaign_id", "status"),
        Index("ix_campaign_recipient_company_contact", "company_id", "contact_id", "id"),
        Index("ix_campaign_recipient_company_email", "company_id", "email"),
        Index("uq_campaign_recipient_message_id", "message_id", unique=True),
        Index("uq_campaign_recipient_campaign_email", "company_id", "campaign_id", "email", unique=True),
        # the one sender claims due rows of every company: not led by company_id
        Index("ix_campaign_recipient_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False)
    contact_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    #: the base the contact was chosen from (for the report per base)
    base_id: Mapped[Optional[int]] = mapped_column(Integer)
    #: the address, lower-cased (one row per address and campaign)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    first_name: Mapped[Optional[str]] = mapped_column(String(64))
    last_name: Mapped[Optional[str]] = mapped_column(String(64))
    company_name: Mapped[Optional[str]] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: stable per row, so a repeat after a crash is recognisable by the receiving side
    message_id: Mapped[str] = mapped_column(String(250), nullable=False)
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: the SMTP server's reason of the last failure or the bounce's diagnostic
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()


class MailSuppression(TenantMixin, Model):
    """An address of a company that gets no more campaigns: unsubscribed or hard-bounced."""

    __tablename__ = "mail_suppression"
    __table_args__ = (Index("uq_mail_suppression_company_email_reason", "company_id", "email", "reason", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    reason: Mapped[str] = mapped_column(String(12), nullable=False)
    #: the campaign whose message led to it (unsubscribe link, bounce)
    campaign_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaign.id", ondelete="SET NULL"))
    #: RFC 3464 Status and Diagnostic-Code of a bounce
    detail: Mapped[Optional[str]] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    campaign: Mapped[Optional[Campaign]] = relationship()


class CampaignImage(TenantMixin, Model):
    """An image uploaded in the campaign editor, served by its random token to any mail client."""

    __tablename__ = "campaign_image"
    __table_args__ = (Index("uq_campaign_image_token", "token", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(40), nullable=False)
    mime: Mapped[str] = mapped_column(String(40), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
