"""The database: issued cards, card feedback, the JWT replay cache."""
