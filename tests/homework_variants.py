"""Student homework for `mlplab check`'s tests, as data.

`tests/students/` holds whole homework written independently, in the ways students write it
(`correct.py` a per-sample loop, `correct_transposed.py` the column convention,
`correct_vectorised.py` postponed annotations, an `add_bias` flag, zero biases and a network that
keeps its own list of arrays, `correct_one_sample.py` functions for one sample). Everything else
is made here from `correct.py`: `MUTATIONS` each change a few lines (a seeded mistake, a
convention, borrowed code, hostile code), `notebook_v4` and `notebook_v3` split it into cells
the ways notebooks hold them, and `FOLDERS` are students' folders with modules of their own.
"""

import json
import pathlib

STUDENTS = pathlib.Path(__file__).parent / "students"
CORRECT = (STUDENTS / "correct.py").read_text()

SCRATCH = "written from scratch"
FUNCTIONS = ["sigmoid", "d_sigmoid", "softmax", "l2_loss", "d_l2_loss", "cross_entropy_loss",
             "d_cross_entropy_softmax"]
SHAPES, SEEDED = "Layer: shapes and biases", "Layer: seeded initialisation"
Q11 = "Network: the Q1.1 forward pass"
FIT = ["fit: sigmoid and L2 loss", "fit: sigmoid and L2 loss, reg_lambda 0.1",
       "fit: softmax and cross-entropy", "fit: softmax and cross-entropy, reg_lambda 0.1"]
NO_BIAS, RETURNS = "fit: layers without bias", "fit: returns the average loss"
PREDICT = "predict: labels as an array, by threshold (>) and by arg-max"
Q25 = "Q2.5: the loss falls at every epoch"
NETWORK = {Q11, *FIT, NO_BIAS, RETURNS, PREDICT, Q25}
EVERY = {SCRATCH, *FUNCTIONS, SHAPES, SEEDED, *NETWORK}


def edited(*edits, source=CORRECT):
    """`source` with each (old, new) replaced; each old must be there exactly once."""
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


def appended(text, source=CORRECT):
    return source + "\n\n" + text + "\n"


# correct.py without its scikit-learn, matplotlib and pandas imports and without its Q2.5 cell:
# for the command line's tests, whose checker then starts without loading those libraries.
PLAIN = edited(*((line, "") for line in CORRECT.splitlines(keepends=True)[3:9]
                 if line.startswith(("from ", "import matplotlib", "import pandas"))))
PLAIN = PLAIN[:PLAIN.index("# " + "-" * 64 + " Q2.5")]


_SIGMOID = "    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, dtype=float)))"
_CLIPPED = ("    P = np.maximum(np.asarray(YPredict, dtype=float), np.finfo(float).tiny)\n"
            "    return -np.sum(np.asarray(YTrue) * np.log(P))")
_D_L2 = ("def d_l2_loss(YTrue, YPredict):\n    return np.asarray(YPredict) - np.asarray(YTrue)",)
_UPDATE_W = ("            layer.weights = layer.weights - learning_rate * (mean_grad_w + "
             "reg_lambda * layer.weights)")
_UPDATE_B = "                layer.biases = layer.biases - learning_rate * mean_grad_b"

# name -> (source, the checks it fails, {check: a phrase of its hint or convention})
MUTATIONS = {
    # --- seeded mistakes, each failing exactly its checks
    "sigmoid overflows": (edited((_SIGMOID, "    return np.exp(x) / (1 + np.exp(x))")),
                          {"sigmoid"}, {"sigmoid": "overflow"}),
    "softmax without the maximum": (edited((
        "    shifted = x - np.max(x, axis=-1, keepdims=True)\n    e = np.exp(shifted)",
        "    e = np.exp(x)")), {"softmax"}, {"softmax": "maximum"}),
    "l2_loss without the half": (edited(("    return 0.5 * np.sum((np.asarray(YTrue)",
                                         "    return np.sum((np.asarray(YTrue)")),
                                 {"l2_loss", RETURNS},
                                 {"l2_loss": "1/2 is missing", RETURNS: "l2_loss"}),
    "l2_loss returns an array": (edited(("    return 0.5 * np.sum((np.asarray(YTrue) - "
                                         "np.asarray(YPredict)) ** 2)",
                                         "    return 0.5 * (np.asarray(YTrue) - "
                                         "np.asarray(YPredict)) ** 2")),
                                 {"l2_loss", RETURNS}, {"l2_loss": "array", RETURNS: "ndarray"}),
    "log(0)": (edited((_CLIPPED, "    return -np.sum(np.asarray(YTrue) * np.log(np.asarray("
                                 "YPredict)))")),
               {"cross_entropy_loss"}, {"cross_entropy_loss": "log(0)"}),
    "d_sigmoid of the output": (edited(
        ("    s = sigmoid(x)\n    return s * (1 - s)", "    return x * (1 - x)"),
        ("            delta = delta * self.d_activation_list[-1](zs[-1])",
         "            delta = delta * self.d_activation_list[-1](activations[-1])"),
        ("self.d_activation_list[l - 1](zs[l - 1])", "self.d_activation_list[l - 1]"
                                                    "(activations[l])")),
        {"d_sigmoid"}, {"d_sigmoid": "in terms of the activation"}),
    "a wrong d_sigmoid": (edited(("    s = sigmoid(x)\n    return s * (1 - s)",
                                  "    s = sigmoid(x)\n    return s * (1 + s)")),
                          {"d_sigmoid", *FIT, NO_BIAS},
                          {**{f: "depends on `d_sigmoid`" for f in FIT},
                           NO_BIAS: "in place of yours the step is right"}),
    "d_l2_loss with the arguments swapped": (edited(
        (_D_L2[0], "def d_l2_loss(YTrue, YPredict):\n    return np.asarray(YTrue) - "
                   "np.asarray(YPredict)")),
        {"d_l2_loss", FIT[0], FIT[1], NO_BIAS, Q25},
        {"d_l2_loss": "sign is flipped", FIT[0]: "depends on `d_l2_loss`",
         Q25: "depends on `d_l2_loss`"}),
    "d_l2_loss twice": (edited(
        (_D_L2[0], "def d_l2_loss(YTrue, YPredict):\n    return 2 * (np.asarray(YPredict) - "
                   "np.asarray(YTrue))")),
        {"d_l2_loss", FIT[0], FIT[1], NO_BIAS}, {"d_l2_loss": "twice",
                                                 FIT[1]: "depends on `d_l2_loss`"}),
    "gradients summed": (edited(
        ("            mean_grad_w = sum_grad_w[l] / n_sample\n"
         "            mean_grad_b = sum_grad_b[l] / n_sample",
         "            mean_grad_w = sum_grad_w[l]\n            mean_grad_b = sum_grad_b[l]")),
        {*FIT, NO_BIAS}, {f: "summed over the samples" for f in [*FIT, NO_BIAS]}),
    "biases decayed": (edited((_UPDATE_B, "                layer.biases = layer.biases - "
                                          "learning_rate * (mean_grad_b + reg_lambda * "
                                          "layer.biases)")),
                       {FIT[1], FIT[3]}, {FIT[1]: "biases decayed", FIT[3]: "biases decayed"}),
    "decay without the learning rate": (edited((_UPDATE_W, "            layer.weights = "
                                                           "layer.weights - learning_rate * "
                                                           "mean_grad_w - reg_lambda * "
                                                           "layer.weights")),
                                        {FIT[1], FIT[3], NO_BIAS},
                                        {FIT[3]: "without the learning rate"}),
    "biases never updated": (edited((_UPDATE_B, "                pass")), set(FIT),
                             {f: "biases never updated" for f in FIT}),
    "fit changes nothing": (edited((_UPDATE_W, "            new_weights = layer.weights - "
                                               "learning_rate * (mean_grad_w + reg_lambda * "
                                               "layer.weights)"),
                                   (_UPDATE_B, "                new_biases = layer.biases - "
                                               "learning_rate * mean_grad_b")),
                            {*FIT, NO_BIAS, Q25}, {FIT[0]: "changed nothing",
                                                   NO_BIAS: "changed nothing"}),
    "unseeded initialisation": (edited(
        ("        self.weights = rng.normal(0, 0.1, size=(self.n_input, self.n_output))",
         "        self.weights = np.random.randn(self.n_input, self.n_output) * 0.1")),
        {SEEDED}, {SEEDED: "default_rng(2)"}),
    "loss after the update": (edited(
        ("            loss += self.loss_function(y, activations[-1])\n", ""),
        ("        return loss / n_sample", "        for x, y in zip(X, Y):\n"
                                          "            y = np.asarray(y, dtype=float).reshape(-1)\n"
                                          "            output = self.forward(np.asarray(x, dtype="
                                          "float).reshape(-1))[1][-1]\n"
                                          "            loss += self.loss_function(y, output)\n"
                                          "        return loss / n_sample")),
        {RETURNS}, {RETURNS: "after the update"}),
    "fit returns None (an older skeleton)": (edited(("        return loss / n_sample", "")),
                                             {RETURNS}, {RETURNS: "None"}),
    "predict returns a list": (edited(("        return np.array(YPredict)",
                                       "        return YPredict")),
                               {PREDICT}, {PREDICT: "np.array"}),
    "predict with >=": (edited(("YPredict.append(1 if out[0] > threshold else 0)",
                                "YPredict.append(1 if out[0] >= threshold else 0)")),
                        {PREDICT}, {PREDICT: "use >, not >="}),
    "dSigmoid for d_sigmoid": (edited(("def d_sigmoid(x):", "def dSigmoid(x):"),
                                      ("[d_sigmoid, d_sigmoid]", "[dSigmoid, dSigmoid]")),
                               {"d_sigmoid"}, {"d_sigmoid": "dSigmoid"}),
    "NaN weights": (edited(("        self.weights = rng.normal(0, 0.1, size=(self.n_input, "
                            "self.n_output))",
                            "        self.weights = rng.normal(0, 0.1, size=(self.n_input, "
                            "self.n_output)) * np.nan")),
                    {SHAPES, *FIT, NO_BIAS, RETURNS, Q25}, {SHAPES: "finite"}),
    # --- conventions the skeleton leaves open: named, not failed
    "L2 term over n": (edited((_UPDATE_W, "            layer.weights = layer.weights - "
                                          "learning_rate * (mean_grad_w + reg_lambda / n_sample "
                                          "* layer.weights)")),
                       set(), {FIT[1]: "1/n", NO_BIAS: "1/n"}),
    "cross-entropy with an epsilon": (edited((
        _CLIPPED, "    return -np.sum(np.asarray(YTrue) * np.log(np.asarray(YPredict) + 1e-12))")),
        set(), {}),
    "plain sigmoid": (edited((_SIGMOID, "    return 1 / (1 + np.exp(-np.asarray(x, "
                                        "dtype=float)))")),
                      set(), {"sigmoid": "NumPy warned"}),
    "softmax by axis 0, used one sample at a time": (edited(
        ("    shifted = x - np.max(x, axis=-1, keepdims=True)",
         "    shifted = x - np.max(x, axis=0)"),
        ("    return e / np.sum(e, axis=-1, keepdims=True)", "    return e / np.sum(e, axis=0)")),
        set(), {"softmax": "one sample"}),
    "calls the softmax layer's derivative": (edited((
        "        if self.d_activation_list[-1] is not None:\n"
        "            # None: the loss derivative already is dL/dz (softmax + cross entropy)\n"
        "            delta = delta * self.d_activation_list[-1](zs[-1])",
        "        delta = delta * self.d_activation_list[-1](zs[-1])")),
        set(), {FIT[2]: "gave ones"}),
    "gradient buffers and a (1, 1) loss": (edited(
        ("        ##### end of your code #####\n\n\n# ----",
         "        ##### end of your code #####\n"
         "        self.grad_weights = np.zeros((self.n_input, self.n_output))\n"
         "        self.grad_biases = np.zeros(self.n_output)\n\n\n# ----"),
        ("        return loss / n_sample", "        return np.array([[loss / n_sample]])")),
        set(), {}),
    "a finished function above an unfinished one": (appended(
        "def momentum_step(layer, velocity):\n    return velocity\n\n\n"
        "def adam_step(layer,\n"), set(), {}),
    "top-level code that would never end": (appended("while True:\n    pass"), set(), {}),
    "top-level code that exits": (appended("import os\nos._exit(3)"), set(), {}),
    "top-level code that prints megabytes": (appended("print('x' * 50_000_000)"), set(), {}),
    # --- definitions taken from mlplab or a neural-network library: no points for them
    "only imports mlplab": ("from mlplab import Layer, Network, sigmoid, d_sigmoid, softmax, "
                            "l2_loss, d_l2_loss, cross_entropy_loss, d_cross_entropy_softmax\n",
                            EVERY, {SCRATCH: "mlplab", "sigmoid": "scores 0"}),
    "softmax as an alias of mlplab's": (appended("import mlplab as ml\nsoftmax = ml.softmax"),
                                        {SCRATCH, "softmax"}, {SCRATCH: "mlplab"}),
    "softmax through importlib": (appended(
        "import importlib\n\ndef softmax(x):\n"
        "    return importlib.import_module('mlplab').softmax(x)"),
        {SCRATCH, "softmax"}, {"softmax": "mlplab"}),
    "d_sigmoid through __import__": (appended(
        "def d_sigmoid(x):\n    return __import__('mlplab.functions', fromlist=['x'])"
        ".d_sigmoid(x)"), {SCRATCH, "d_sigmoid"}, {"d_sigmoid": "mlplab"}),
    "sigmoid calling mlplab's": (appended(
        "from mlplab.functions import sigmoid as _s\n\ndef sigmoid(x):\n    return _s(x)"),
        {SCRATCH, "sigmoid"}, {"sigmoid": "mlplab"}),
    "sigmoid imported under a built name": (appended(
        "def sigmoid(x):\n    name = ''.join(['ml', 'plab'])\n"
        "    return getattr(__import__(name), 'sigmoid')(x)"),
        {SCRATCH, "sigmoid"}, {"sigmoid": "computed name"}),
    "Network a subclass of mlplab's": (appended(
        "import mlplab\n\nclass Network(mlplab.Network):\n    pass"),
        {SCRATCH, *NETWORK}, {SCRATCH: "subclass", Q25: "scores 0"}),
    "Network around scikit-learn's MLPClassifier": (appended(
        "from sklearn.neural_network import MLPClassifier\n\n"
        "class Network:\n    def __init__(self, layers, *functions):\n"
        "        self.layers = layers\n"
        "        self.model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1)\n\n"
        "    def fit(self, X, Y, learning_rate, reg_lambda):\n"
        "        self.model.partial_fit(X, np.argmax(np.reshape(Y, (len(X), -1)), axis=1), "
        "classes=[0, 1, 2])\n        return 0.0\n\n"
        "    def predict(self, X, threshold=None):\n        return self.model.predict(X)"),
        {SCRATCH, *NETWORK}, {SCRATCH: "sklearn.neural_network"}),
    "mlplab under a computed name, the profiler switched off": (appended(
        "import importlib, sys\n\ndef _m(part):\n    sys.setprofile(None)\n"
        "    return importlib.import_module(bytes([109, 108, 112, 108, 97, 98]).decode() + '.' "
        "+ part)\n\ndef sigmoid(x):\n    return _m('functions').sigmoid(x)"),
        {SCRATCH, "sigmoid"}, {"sigmoid": "profiler"}),
    "a comparison with MLPClassifier in a method nothing calls": (edited((
        "    def predict(self, X, threshold = None):",
        "    def compare(self, X, y):\n"
        "        from sklearn.neural_network import MLPClassifier\n"
        "        return MLPClassifier().fit(X, y).score(X, y)\n\n"
        "    def predict(self, X, threshold = None):")), {SCRATCH}, {SCRATCH: "imports"}),
    "sigmoid made at load from a string": (appended(
        "def _made(text, name):\n    namespace = {'np': np}\n"
        "    exec(compile(text, '<homework>', 'exec'), namespace)\n    return namespace[name]\n\n\n"
        "sigmoid = _made('def sigmoid(x):\\n    return 1 / (1 + np.exp(-np.asarray(x, float)))',"
        " 'sigmoid')"),
        {SCRATCH, "sigmoid"}, {SCRATCH: "made at run time from a string"}),
    "d_sigmoid calling a function made from a string, kept in a dict": (appended(
        "def _define(text):\n    made = {}\n    exec(text, {'np': np}, made)\n    return made\n\n\n"
        "_made = _define('def d(x):\\n    s = 1 / (1 + np.exp(-x))\\n    return s * (1 - s)')\n\n\n"
        "def d_sigmoid(x):\n    return _made['d'](np.asarray(x, dtype=float))"),
        {SCRATCH, "d_sigmoid"}, {SCRATCH: "made at run time from a string"}),
    "a dataclass Layer and a decorated sigmoid": (edited(
        ("import numpy as np", "import dataclasses\nimport functools\nimport numpy as np"),
        ("class Layer:\n    def __init__(self, n_input, n_output, bias = True):\n"
         "        self.n_input = n_input\n        self.n_output = n_output\n"
         "        self.bias = bias\n        self.initialize_weights()",
         "@dataclasses.dataclass\nclass Layer:\n    n_input: int\n    n_output: int\n"
         "    bias: bool = True\n\n    def __post_init__(self):\n"
         "        self.initialize_weights()"),
        ("def sigmoid(x):", "def _as_array(f):\n    @functools.wraps(f)\n"
         "    def wrapper(x):\n        return f(np.asarray(x, dtype=float))\n"
         "    return wrapper\n\n\n@_as_array\ndef sigmoid(x):")), set(), {}),
    "an array kept beside the weights": (edited((
        "        self.weights = rng.normal(0, 0.1, size=(self.n_input, self.n_output))",
        "        self.weights = rng.normal(0, 0.1, size=(self.n_input, self.n_output))\n"
        "        self.initial_weights = self.weights.copy()")), set(), {}),
    "l2_loss returns its value as text": (edited((
        "    return 0.5 * np.sum((np.asarray(YTrue) - np.asarray(YPredict)) ** 2)",
        "    return repr(0.5 * np.sum((np.asarray(YTrue) - np.asarray(YPredict)) ** 2))")),
        {"l2_loss", FIT[0], FIT[1], NO_BIAS, Q25},
        {"l2_loss": "not numbers", FIT[0]: "depends on `l2_loss`"}),
    "predict returns text": (edited(("        return np.array(YPredict)",
                                     "        return np.array(YPredict).astype(str)")),
                             {PREDICT}, {}),
    "nothing defined": ("x = 1\n", EVERY, {SCRATCH: "none of the homework's names"}),
    # --- hostile code in checked functions: fails its checks, within limits
    "exits in sigmoid": (appended("def sigmoid(x):\n    import os\n    os._exit(3)"),
                         {"sigmoid", "d_sigmoid"}, {"sigmoid": "exit status 3"}),
    "allocates in sigmoid": (appended("def sigmoid(x):\n    return [0] * 10**10"), None,
                             {"sigmoid": "MemoryError"}),
    "predict never returns": (appended(
        "def endless(self, X, threshold=None):\n    while True:\n        pass\n\n\n"
        "Network.predict = endless"), {PREDICT}, {PREDICT: "ran longer than"}),
    "a bare except in softmax": (appended(
        "def softmax(x):\n    while True:\n        try:\n            pass\n"
        "        except:\n            pass"), {"softmax"}, {"softmax": "ran longer than"}),
}


def _cells(source):
    """correct.py's sections (split at its '# ----' lines) as code cells."""
    return [part.strip("\n") for part in source.split("# ----------------------------------"
                                                     "------------------------------")]


def notebook_v4(source=CORRECT):
    """`source` (correct.py) as a notebook of today's format, with `%matplotlib inline` and a
    Q2.5 cell that trains for a million epochs (never run by the checker)."""
    import nbformat.v4 as v4

    cells = _cells(source)
    cells[0] = "%matplotlib inline\n" + cells[0]
    cells[-1] = cells[-1].replace("epochs = 100", "epochs = 10**6")
    notebook = v4.new_notebook(cells=[v4.new_markdown_cell("# Homework 2")] +
                               [v4.new_code_cell(cell) for cell in cells])
    return json.dumps(notebook, indent=1)


def notebook_v3():
    """correct.py as an older notebook (format 3: cells under 'worksheets', code under
    'input'), with IPython's syntax the ways students leave it: a magic, `name?` at the end of a
    cell, an indented `%timeit`, a shell line, and a cell that does not parse below a finished
    function."""
    import nbformat.v3 as v3

    cells = _cells(CORRECT)
    cells[0] = "%matplotlib inline\n!pip install numpy\n" + cells[0]
    cells[2] = "%%time\n" + cells[2]   # a cell magic that runs its cell as Python
    cells[1] += "\n\nsigmoid?"
    cells[1] += "\nfor size in (10, 100):\n    %timeit sigmoid(np.zeros(size))"
    cells.append("def relu(x):\n    return np.maximum(x, 0)\n\n\ndef d_relu(x):\n")
    worksheet = v3.new_worksheet(cells=[v3.new_code_cell(input=cell) for cell in cells])
    return v3.writes_json(v3.new_notebook(worksheets=[worksheet]))


# Students' folders: files of their own beside the homework. name -> ({file: text}, failing)
FOLDERS = {
    "a module of its own": (
        {"hw2.py": edited(("def sigmoid(x):", "from mymath import sigmoid\n\n\ndef unused(x):")),
         "mymath.py": "import numpy as np\n\n\ndef sigmoid(x):\n"
                      "    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, dtype=float)))\n"},
        set()),
    "a package named torch": (
        {"hw2.py": appended("from torch import softmax"),
         "torch/__init__.py": "import numpy as np\n\n\ndef softmax(x):\n"
                              "    e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
                              "    return e / e.sum(axis=-1, keepdims=True)\n"},
        {SCRATCH, "softmax"}),
}
