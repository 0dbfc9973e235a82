"""Email: templates, the outbox and delivery."""
