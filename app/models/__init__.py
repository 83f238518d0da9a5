"""All ORM models; importing this package registers every table on the metadata."""

from app.models import fk_indexes
from app.models.api_tokens import ApiToken
from app.models.backups import Backup
from app.models.billing import Plan
from app.models.binders import Attachment, Binder
from app.models.campaigns import (
    Campaign,
    CampaignImage,
    CampaignRecipient,
    MailSuppression,
    campaign_base,
    campaign_tag,
)
from app.models.company import Company
from app.models.contact_bulk import BulkJob
from app.models.contact_io import ImportJob
from app.models.contacts import ClientBase, Contact, ContactNote, Tag, contact_tag
from app.models.invoicing import (
    Invoice,
    InvoiceCounter,
    InvoiceItem,
    InvoicePayment,
    InvoiceSeries,
    KsefOutbox,
    KsefSettings,
    PurchaseInvoice,
)
from app.models.legal import LegalDocument, TermsAcceptance
from app.models.mailing import DocumentEmail, Mailbox
from app.models.notifications import Notification, Reminder, apscheduler_jobs
from app.models.payments import Payment, PaymentEvent, PlatformOperator
from app.models.restores import RestoreRequest
from app.models.sales import (
    DocumentSequence,
    Offer,
    OfferItem,
    OfferVersion,
    Order,
    OrderItem,
    Product,
)
from app.models.security import AuditEvent, CompanySecurity, UserSession
from app.models.signups import NipClaim
from app.models.support import CompanyExport, SupportRequest
from app.models.tasks import Task, TaskCategory, task_assignee
from app.models.users import CrmUser

# after every table is registered: index their foreign keys (see fk_indexes.py)
fk_indexes.declare()

__all__ = ["ApiToken", "Attachment", "AuditEvent", "Backup", "Binder", "BulkJob", "Campaign", "CampaignImage", "CampaignRecipient", "ClientBase", "Company", "CompanyExport", "CompanySecurity", "Contact", "ContactNote", "CrmUser", "DocumentEmail", "DocumentSequence", "ImportJob", "Invoice", "InvoiceCounter", "InvoiceItem", "InvoicePayment", "InvoiceSeries", "KsefOutbox", "KsefSettings", "LegalDocument", "MailSuppression", "Mailbox", "NipClaim", "Notification", "Offer", "OfferItem", "OfferVersion", "Order", "OrderItem", "Payment", "PaymentEvent", "Plan", "PlatformOperator", "Product", "PurchaseInvoice", "Reminder", "RestoreRequest", "SupportRequest", "Tag", "Task", "TaskCategory", "TermsAcceptance", "UserSession", "apscheduler_jobs", "campaign_base", "campaign_tag", "contact_tag", "task_assignee"]
