"""Demand control (Apollo Router's name for it): what an operation costs and who can pay for it."""
