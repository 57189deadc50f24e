"""Staff accounts: who may sign in to the staff pages, their sessions, and the audit log."""
