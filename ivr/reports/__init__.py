"""Collection reports: the KPI definitions, the daily roll-ups that keep them
fast, and reading them."""
