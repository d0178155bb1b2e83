"""HTML views: parse input, call services/selectors, render. No business rules here."""
