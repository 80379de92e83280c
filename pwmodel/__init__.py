"""pwmodel: when does remote per-CPU locking beat queued per-CPU work?

Cost models (SymPy closed forms, SciPy numerics) of the PW/pwlocks series:
fast-path tax, cache-line bouncing, wake-ups by isolation level, lock
contention and the lru_add_drain_all() fan-out over N CPUs.
All times are in ns and all rates in Hz inside the package.

Module aliases mean one thing everywhere (package, tests, benchmarks)::

    B     pwmodel.report.build           M     pwmodel.machine
    CAL   pwmodel.fit.calibrate          MS    pwmodel.report.measured
    CS    pwmodel.models.callsite        NB    pwmodel.notebook
    D     pwmodel.dist                   P     pwmodel.params
    DATA  pwmodel.data                   PM    pwmodel.models
    DC    pwmodel.decide                 R     pwmodel.report.results
    E     pwmodel.evaluate               SEL   pwmodel.fit.select
    EV    pwmodel.simulate.events        SF    pwmodel.simulate.fanout
    F     pwmodel.models.fanout          SPEC  pwmodel.sweep.spec
    FD    pwmodel.fit.distributions      STYLE pwmodel.report.style
    FIG   pwmodel.report.figures         SW    pwmodel.sweep
    FM    pwmodel.fit.families           T     pwmodel.report.text
    FP    pwmodel.models.fastpath        V     pwmodel.verdict
    FPAR  pwmodel.fit.parameters         VAL   pwmodel.simulate.validate
    H     pwmodel.fit.heldout            U     pwmodel.uncertainty
                                         W     pwmodel.models.wakeup
                                         X     pwmodel.models.symbols

``S`` is never a module: it is the parameter-symbol table (``params.SYMBOLS``)
where the models use it. Other modules are imported by their own name.
"""

__version__ = "0.1.0"
