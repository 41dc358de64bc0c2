"""scikit-learn's MLP parameters beside mlplab's: one table for the README and for the errors.

A scikit-learn name or value that mlplab spells otherwise is refused with an error naming
mlplab's equivalent and how to convert, taken from the same row the README shows
(`markdown_table`; a test keeps the README's copy equal to it).
"""

from dataclasses import dataclass, field

from sklearn.utils._param_validation import InvalidParameterError


@dataclass(frozen=True)
class Row:
    """One line of the mapping: scikit-learn's spelling, mlplab's, and what differs (Markdown).

    `renamed` maps a scikit-learn keyword to mlplab's keyword (None: no equivalent);
    `renamed_values` maps (keyword, scikit-learn value) to mlplab's spelling."""
    scikit_learn: str
    mlplab: str
    difference: str = ""
    renamed: dict = field(default_factory=dict)
    renamed_values: dict = field(default_factory=dict)


ROWS = (
    Row("`hidden_layer_sizes=(100,)`", "`hidden_layer_sizes=(100,)`"),
    Row('`activation="relu"` (`"identity"`, `"logistic"`, `"tanh"`)',
        '`activation="relu"` (`"identity"`, `"sigmoid"`, `"tanh"`)',
        '`"logistic"` is called `"sigmoid"`; also a `(f, d_f)` pair of your own, derivative of z',
        renamed_values={("activation", "logistic"): 'activation="sigmoid"'}),
    Row('`solver="adam"` (`"sgd"`, `"lbfgs"`)', '`solver="adam"` (`"sgd"`, `"lbfgs"`)'),
    Row("`alpha=1e-4`", "`reg_lambda=1.5e-3`",
        "scikit-learn divides `alpha` by the rows of each batch, so `reg_lambda = alpha / "
        'batch_size` gives the same gradient; `batch_size="auto"` is min(200, n_samples) rows',
        renamed={"alpha": "reg_lambda"}),
    Row('`batch_size="auto"` (min(200, n))', '`batch_size="auto"`',
        "also `None`: one full batch per epoch, as the assignment"),
    Row('`learning_rate="constant"` (`"invscaling"`, `"adaptive"`)',
        '`learning_rate_schedule="constant"` (same choices)',
        "applies to `\"adam\"` too; mlplab's `learning_rate` is the step size",
        renamed_values={("learning_rate", schedule): f'learning_rate_schedule="{schedule}"'
                        for schedule in ("constant", "invscaling", "adaptive")}),
    Row("`learning_rate_init=0.001`", "`learning_rate=0.002`",
        "the same number; only the default differs",
        renamed={"learning_rate_init": "learning_rate"}),
    Row("`power_t=0.5`", "`power_t=0.5`"),
    Row("`max_iter=200`", "`epochs=200`", "the same number", renamed={"max_iter": "epochs"}),
    Row("`shuffle=True`, `random_state=None`, `verbose=False`, `warm_start=False`", "the same",
        "`random_state` may also be a NumPy `Generator`; `verbose` shows a progress bar"),
    Row("`tol=1e-4`, `n_iter_no_change=10`", "the same",
        "on the training loss without the L2 term; `n_iter_no_change=None` trains every one of "
        "`epochs` (no ConvergenceWarning)"),
    Row("`momentum=0.9`, `nesterovs_momentum=True`", "the same",
        "PyTorch's form of the update (`optimizers.SGD`): the same steps while the rate is "
        "constant"),
    Row("`beta_1=0.9`, `beta_2=0.999`, `epsilon=1e-8`", "the same",
        "epsilon after the bias correction, as the paper and PyTorch (`optimizers.Adam`)"),
    Row("`early_stopping=False`, `validation_fraction=0.1`", "the same",
        "stops on the validation loss after `patience=10` epochs without improving (scikit-learn: "
        "on the validation score, after `n_iter_no_change`), and keeps the best epoch's weights"),
    Row("`max_fun=15000`", "`max_fun=15000`"),
    Row('`loss="squared_error"` (`MLPRegressor`)', "no parameter",
        "`MLPRegressor` always trains on the squared error; scikit-learn's `\"poisson\"` has no "
        "equivalent", renamed={"loss": None}),
    Row("", '`output="softmax"` or `"sigmoid"` (classifier)',
        "`\"sigmoid\"`: the assignment's sigmoid output with L2 loss"),
    Row("", "`label_smoothing=0.0` (classifier)",
        "as PyTorch's `CrossEntropyLoss(label_smoothing=...)`"),
    Row("", '`dtype="float64"` or `"float32"`', "computes in single precision"),
    Row("", "`save(path)`, `load(path)`", "model files without pickle"),
)


def markdown_table():
    """The mapping as the README shows it: a Markdown table, one line per row."""
    lines = ["| scikit-learn `MLPClassifier` / `MLPRegressor` | mlplab | difference |",
             "|---|---|---|"]
    for row in ROWS:
        cells = (row.scikit_learn, row.mlplab, row.difference)
        lines.append("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
    return "\n".join(lines) + "\n"


def _plain(markdown):
    return markdown.replace("`", "")


def refuse_renamed_keywords(estimator_name, keywords):
    """Raise for a keyword of scikit-learn's that mlplab spells otherwise, naming mlplab's."""
    for row in ROWS:
        for name, ours in row.renamed.items():
            if name in keywords:
                equivalent = (f"mlplab's equivalent is {ours}" if ours
                              else "mlplab has no such parameter")
                raise InvalidParameterError(
                    f"{estimator_name}: {name}={keywords[name]!r} is scikit-learn's name; "
                    f"{equivalent} ({_plain(row.difference)})")


def refuse_renamed_values(estimator_name, params):
    """Raise for a parameter value of scikit-learn's that mlplab spells otherwise."""
    for row in ROWS:
        for (name, value), ours in row.renamed_values.items():
            if isinstance(params.get(name), str) and params[name] == value:
                raise InvalidParameterError(
                    f"{estimator_name}: {name}={value!r} is scikit-learn's spelling; mlplab's "
                    f"is {ours} ({_plain(row.difference)})")
