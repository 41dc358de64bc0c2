"""The experiment side of mlplab: the assignment's studies, run, plotted and reported.

`configs` says what to run; `runner` runs it (`train_and_score`, `run_all`) into a results dict;
`findings` measures what the numbers show; `plots` and `report` turn results into figures and
report.md, report.html and report.pdf. `parallel` and `progress` serve the runner. It imports
mlplab; mlplab never imports it. ``mlplab run`` (`mlplab.cli`) chains them.
"""
