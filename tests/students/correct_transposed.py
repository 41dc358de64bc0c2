# CS640 HW2 - neural network from scratch
# Correct submission in the column convention of Q1.2: W has shape (n_output, n_input),
# z = W a + b with a a column vector, and fit is vectorised over the whole batch
# (each column of A is one sample). Test input for `mlplab check`.

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import confusion_matrix, accuracy_score, precision_score, recall_score, f1_score
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import pandas


# Q2.2 ------------------------------------------------------------------

def sigmoid(x):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    pos = x >= 0
    # split in two so that exp never overflows
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1 + ex)
    return out

def d_sigmoid(x):
    return sigmoid(x) * (1 - sigmoid(x))

def softmax(x):
    # works for one sample (1-D) or several samples in rows (2-D)
    x = np.asarray(x, dtype=float)
    ex = np.exp(x - x.max(axis=-1, keepdims=True))
    return ex / ex.sum(axis=-1, keepdims=True)

def l2_loss(YTrue, YPredict):
    diff = np.asarray(YTrue, dtype=float) - np.asarray(YPredict, dtype=float)
    return np.sum(diff ** 2) / 2

def d_l2_loss(YTrue, YPredict):
    return np.asarray(YPredict, dtype=float) - np.asarray(YTrue, dtype=float)

def cross_entropy_loss(YTrue, YPredict):
    YPredict = np.clip(np.asarray(YPredict, dtype=float), np.finfo(float).tiny, None)
    return -np.sum(YTrue * np.log(YPredict))

def d_cross_entropy_softmax(YTrue, YPredict):
    return np.asarray(YPredict, dtype=float) - np.asarray(YTrue, dtype=float)


# Q2.3 ------------------------------------------------------------------

class Layer:
    def __init__(self, n_input, n_output, bias = True):
        self.n_input = n_input
        self.n_output = n_output
        self.bias = bias
        self.initialize_weights()

    def initialize_weights(self):
        """
        Initializes the weights and biases with small random values.
        """
        rng = np.random.default_rng(2) # for re-producibility, do not change this
        ##### start of your code #####
        # one row per output node: z = W a + b
        self.W = rng.uniform(-0.5, 0.5, size=(self.n_output, self.n_input))
        if self.bias:
            self.b = np.zeros((self.n_output, 1))
        ##### end of your code #####


# Q2.4 ------------------------------------------------------------------

class Network:
    def __init__(self, layers, activation_list, d_activation_list, loss_function, d_loss_function):
        self.layers = layers
        self.activation_list = activation_list
        self.d_activation_list = d_activation_list
        self.loss_function = loss_function
        self.d_loss_function = d_loss_function

    # my activation/loss functions take samples in rows, the network keeps samples in
    # columns, hence the .T around every call

    def _feedforward(self, A):
        """A: (n_input, n_samples). Returns the list of Z's and the list of A's."""
        Zs, As = [], [A]
        for layer, f in zip(self.layers, self.activation_list):
            Z = layer.W @ As[-1]
            if layer.bias:
                Z = Z + layer.b
            Zs.append(Z)
            As.append(f(Z.T).T)
        return Zs, As

    def fit(self, X, Y, learning_rate, reg_lambda):
        """
        This is the training function. It should return the average loss over samples.
        """
        loss, n_sample = 0, len(X)

        ##### start of your code #####
        A0 = np.asarray(X, dtype=float).reshape(n_sample, -1).T        # (n_input, N)
        Yc = np.asarray(Y, dtype=float).reshape(n_sample, -1).T        # (n_output, N)

        Zs, As = self._feedforward(A0)
        loss = self.loss_function(Yc.T, As[-1].T)

        # backward, all samples at once
        delta = self.d_loss_function(Yc.T, As[-1].T).T
        if self.d_activation_list[-1] is not None:
            delta = delta * self.d_activation_list[-1](Zs[-1].T).T
        dWs, dbs = [None] * len(self.layers), [None] * len(self.layers)
        for l in reversed(range(len(self.layers))):
            dWs[l] = delta @ As[l].T / n_sample                         # mean over samples
            dbs[l] = np.sum(delta, axis=1, keepdims=True) / n_sample
            if l > 0:
                delta = (self.layers[l].W.T @ delta) * self.d_activation_list[l - 1](Zs[l - 1].T).T

        for layer, dW, db in zip(self.layers, dWs, dbs):
            layer.W = layer.W - learning_rate * (dW + reg_lambda * layer.W)
            if layer.bias:
                layer.b = layer.b - learning_rate * db
        ##### end of your code #####

        # lastly, return the average loss
        return loss / n_sample

    def predict(self, X, threshold = None):
        """
        This function predicts the labels for samples in X. The parameter threshold
        is used when the labels are binary and there is only one node in the final
        layer of the network.
        """
        YPredict = []

        ##### start of your code #####
        A0 = np.asarray(X, dtype=float).reshape(len(X), -1).T
        out = self._feedforward(A0)[1][-1]                               # (n_output, N)
        if out.shape[0] == 1:
            t = 0.5 if threshold is None else threshold
            YPredict = (out[0] > t).astype(int)
        else:
            YPredict = np.argmax(out, axis=0)
        ##### end of your code #####

        # return as a numpy array
        return np.array(YPredict)


# Q2.5 ------------------------------------------------------------------

from sklearn import datasets

X, Y = datasets.load_iris(return_X_y = True)
X, Y = X[:100, :2], Y[:100]
rng = np.random.default_rng(2)
indices = [i for i in range(100)]
rng.shuffle(indices)
X, Y = X[indices], Y[indices]


# assemble your model
layers = [Layer(2, 4), Layer(4, 1)]
model = Network(layers, [sigmoid, sigmoid], [d_sigmoid, d_sigmoid], l2_loss, d_l2_loss)

# specify training parameters
epochs = 100
learning_rate = 1e-2
reg_lambda = 0

# capture the loss values during training
loss = np.zeros(epochs)

# start training
for epoch in range(epochs):
    loss[epoch] = model.fit(X, Y, learning_rate, reg_lambda)

# plot the losses, the curve should be decreasing
plt.plot([i for i in range(epochs)], loss)
plt.title("Training Loss")
plt.xlabel("Epoch")
plt.show()
