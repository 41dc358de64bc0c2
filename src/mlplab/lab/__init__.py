"""The experiment side of mlplab: the assignment's studies, run, plotted and reported.

It imports mlplab; mlplab never imports it. ``mlplab run`` is `runner.run_all` followed by
`plots.make_all` and `report.write_report`.
"""
