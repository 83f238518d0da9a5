"""All ORM models; importing this package registers every table on the metadata."""

from app.models.company import Company
from app.models.users import CrmUser

__all__ = ["Company", "CrmUser"]
