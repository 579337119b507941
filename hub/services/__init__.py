"""Services: every state change of the hub, each one transaction with its event row."""
