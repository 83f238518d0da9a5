"""Views of e-mail from the companies' own mailboxes."""
