"""Early warning from shops' sales: a pure library (no Flask).

    from signals import SalesScanner, EarlyWarning
    warnings = SalesScanner().scan(counts, start, shop_ids, categories)

- `signals.scanner`: the sales scanner (pooled seasonal baseline + negative-binomial CUSUM);
- `signals.checks`: the other signals (unshipped parcels, refunds, stock, stale catalogue);
- `signals.synthetic`: generated sales histories whose trouble is known;
- `signals.evaluate`: `python -m signals.evaluate`, scanner vs naive rule vs oracle;
- `signals.backtest`: replay over a sales CSV (`flask --app market early-warning backtest`);
- `signals.bench`: `python -m signals.bench`, the backtest's speed.
"""
from .scanner import EarlyWarning, SalesScanner

__all__ = ["EarlyWarning", "SalesScanner"]
