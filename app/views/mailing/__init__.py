"""E-mail from the companies' own mailboxes: mailboxes and their verification, documents, campaigns."""
