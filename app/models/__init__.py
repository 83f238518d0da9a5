"""All ORM models; importing this package registers every table on the metadata."""

from app.models.company import Company
from app.models.contacts import ClientBase, Contact, Tag, contact_tag
from app.models.users import CrmUser

__all__ = ["ClientBase", "Company", "Contact", "CrmUser", "Tag", "contact_tag"]
