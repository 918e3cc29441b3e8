"""``ivr demo``: a campaign against the built-in sandbox, start to finish.

No account and no network: the sandbox carrier and the service run in this
process on loopback ports, a portfolio (``examples/portfolio.csv``, or
``--debtors N`` generated ones) is imported into SQLite, every debtor is
called, and simulated people answer with the keypad (a promise, a wrong
person, a voicemail box, a busy line, a request to stop calling). A progress
bar follows the calls; at the end come the calls' stories (when few), the
outcomes and the campaign's KPIs.

* :mod:`ivr.demo.people` -- the simulated callees and the generated portfolio;
* :mod:`ivr.demo.campaign` -- the sandbox and service, and the steps in order;
* :mod:`ivr.demo.progress` -- the progress bar (plain lines off a terminal);
* :mod:`ivr.demo.report` -- stories, the outcomes table and the KPI lines.
"""

from ivr.demo.campaign import run_demo
from ivr.demo.people import keypad_promise

__all__ = ["keypad_promise", "run_demo"]
