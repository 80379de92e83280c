"""pwmodel: when does remote per-CPU locking beat queued per-CPU work?

Cost models (SymPy closed forms, SciPy numerics) of the PW/pwlocks series:
fast-path tax, cache-line bouncing, wake-ups by isolation level, lock
contention and the lru_add_drain_all() fan-out over N CPUs.
All times are in ns and all rates in Hz inside the package.

Module aliases mean one thing everywhere (package, tests, benchmarks)::

    B     pwmodel.report.build           NB    pwmodel.notebook
    CAL   pwmodel.fit.calibrate          P     pwmodel.params
    CMP   pwmodel.comparison             PM    pwmodel.models
    CS    pwmodel.models.callsite        R     pwmodel.report.results
    D     pwmodel.dist                   RQ    pwmodel.models.requester
    DATA  pwmodel.data                   SEL   pwmodel.fit.select
    DC    pwmodel.decide                 SF    pwmodel.simulate.fanout
    E     pwmodel.evaluate               SPEC  pwmodel.sweep.spec
    EV    pwmodel.simulate.events        STYLE pwmodel.report.style
    F     pwmodel.models.fanout          SW    pwmodel.sweep
    FD    pwmodel.fit.distributions      T     pwmodel.report.text
    FIG   pwmodel.report.figures         U     pwmodel.uncertainty
    FM    pwmodel.fit.families           V     pwmodel.verdict
    FP    pwmodel.models.fastpath        VAL   pwmodel.simulate.validate
    FPAR  pwmodel.fit.parameters         W     pwmodel.models.wakeup
    H     pwmodel.fit.heldout            WC    pwmodel.fit.wakecause
    M     pwmodel.machine                X     pwmodel.models.symbols
    MS    pwmodel.report.measured

``S`` is never a module: it is the parameter-symbol table (``params.SYMBOLS``)
where the models use it. Other modules are imported by their own name.
"""

__version__ = "0.1.0"
