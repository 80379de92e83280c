"""pwmodel: when does remote per-CPU locking beat queued per-CPU work?

Cost models (SymPy closed forms, SciPy numerics) of the PW/pwlocks series:
fast-path tax, cache-line bouncing, wake-ups by isolation level, lock
contention and the lru_add_drain_all() fan-out over N CPUs.
All times are in ns and all rates in Hz inside the package.

Module aliases mean one thing everywhere (package, tests, benchmarks)::

    A     pwmodel.models.alternatives    NB    pwmodel.notebook
    B     pwmodel.report.build           P     pwmodel.params
    CAL   pwmodel.fit.calibrate          PM    pwmodel.models
    CMP   pwmodel.comparison             R     pwmodel.report.results
    CS    pwmodel.models.callsite        RQ    pwmodel.models.requester
    D     pwmodel.dist                   SEL   pwmodel.fit.select
    DATA  pwmodel.data                   SF    pwmodel.simulate.fanout
    DC    pwmodel.decide                 SPEC  pwmodel.sweep.spec
    E     pwmodel.evaluate               ST    pwmodel.strategies
    EV    pwmodel.simulate.events        STYLE pwmodel.report.style
    F     pwmodel.models.fanout          SW    pwmodel.sweep
    FD    pwmodel.fit.distributions      T     pwmodel.report.text
    FIG   pwmodel.report.figures         U     pwmodel.uncertainty
    FM    pwmodel.fit.families           V     pwmodel.verdict
    FP    pwmodel.models.fastpath        VAL   pwmodel.simulate.validate
    FPAR  pwmodel.fit.parameters         W     pwmodel.models.wakeup
    H     pwmodel.fit.heldout            WC    pwmodel.fit.wakecause
    M     pwmodel.machine                X     pwmodel.models.symbols
    MS    pwmodel.report.measured        ALT   pwmodel.simulate.alternatives
    DOM   pwmodel.simulate.domain        OW    pwmodel.models.owner
    BD    pwmodel.models.breakdown        DY    pwmodel.models.dirty

``S`` is never a module: it is the parameter-symbol table (``params.SYMBOLS``)
where the models use it. Other modules are imported by their own name.
"""

__version__ = "0.1.0"
