# CS640 Homework 2 -- Q2 implementation
# (a correct submission, written the way a student would; test input for `mlplab check`)

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import confusion_matrix, accuracy_score, precision_score, recall_score, f1_score
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import pandas


# ---------------------------------------------------------------- Q2.2

def sigmoid(x):
    # 1 / (1 + exp(-x)) = (1 + tanh(x / 2)) / 2, and tanh never overflows
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, dtype=float)))

def d_sigmoid(x):
    s = sigmoid(x)
    return s * (1 - s)

def softmax(x):
    x = np.asarray(x, dtype=float)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)

def l2_loss(YTrue, YPredict):
    return 0.5 * np.sum((np.asarray(YTrue) - np.asarray(YPredict)) ** 2)

def d_l2_loss(YTrue, YPredict):
    return np.asarray(YPredict) - np.asarray(YTrue)

def cross_entropy_loss(YTrue, YPredict):
    # clip so that a probability of exactly 0 does not give log(0)
    P = np.maximum(np.asarray(YPredict, dtype=float), np.finfo(float).tiny)
    return -np.sum(np.asarray(YTrue) * np.log(P))

def d_cross_entropy_softmax(YTrue, YPredict):
    # gradient w.r.t. the input of the softmax (softmax + cross entropy together)
    return np.asarray(YPredict) - np.asarray(YTrue)


# ---------------------------------------------------------------- Q2.3

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
        # weights[i, j] connects input node i to output node j (w_ij as in Q1)
        self.weights = rng.normal(0, 0.1, size=(self.n_input, self.n_output))
        if self.bias:
            self.biases = rng.normal(0, 0.1, size=self.n_output)
        else:
            self.biases = None
        ##### end of your code #####


# ---------------------------------------------------------------- Q2.4

class Network:
    def __init__(self, layers, activation_list, d_activation_list, loss_function, d_loss_function):
        self.layers = layers
        self.activation_list = activation_list
        self.d_activation_list = d_activation_list
        self.loss_function = loss_function
        self.d_loss_function = d_loss_function

    def forward(self, x):
        """Forward pass of one sample. Returns the z's and the a's (a[0] is the input)."""
        zs = []
        activations = [x]
        for layer, f in zip(self.layers, self.activation_list):
            z = np.dot(activations[-1], layer.weights)
            if layer.biases is not None:
                z = z + layer.biases
            zs.append(z)
            activations.append(f(z))
        return zs, activations

    def backprop(self, y, zs, activations):
        """Gradients of the loss of one sample, for every layer."""
        grads_w = [None] * len(self.layers)
        grads_b = [None] * len(self.layers)
        # delta = dL/dz of the output layer
        delta = self.d_loss_function(y, activations[-1])
        if self.d_activation_list[-1] is not None:
            # None: the loss derivative already is dL/dz (softmax + cross entropy)
            delta = delta * self.d_activation_list[-1](zs[-1])
        for l in range(len(self.layers) - 1, -1, -1):
            grads_w[l] = np.outer(activations[l], delta)
            grads_b[l] = delta
            if l > 0:
                delta = np.dot(self.layers[l].weights, delta) * self.d_activation_list[l - 1](zs[l - 1])
        return grads_w, grads_b

    def fit(self, X, Y, learning_rate, reg_lambda):
        """
        This is the training function. It should return the average loss over samples.
        """
        loss, n_sample = 0, len(X)

        ##### start of your code #####
        # first, initialize zero gradients
        sum_grad_w = [np.zeros(layer.weights.shape) for layer in self.layers]
        sum_grad_b = [np.zeros(layer.n_output) for layer in self.layers]

        # next, for each sample,
        # 1. compute outputs from each layer (via some forward function);
        # 2. compute and accumulate the loss (via the self.loss_function); and
        # 3. compute and accumulate the gradients (via some backprog function)
        for i in range(n_sample):
            x = np.asarray(X[i], dtype=float).reshape(-1)
            y = np.asarray(Y[i], dtype=float).reshape(-1)
            zs, activations = self.forward(x)
            loss += self.loss_function(y, activations[-1])
            grads_w, grads_b = self.backprop(y, zs, activations)
            for l in range(len(self.layers)):
                sum_grad_w[l] += grads_w[l]
                sum_grad_b[l] += grads_b[l]

        # then, update weights and biases using the corresponding gradients
        # don't forget to take the mean before updating
        for l, layer in enumerate(self.layers):
            mean_grad_w = sum_grad_w[l] / n_sample
            mean_grad_b = sum_grad_b[l] / n_sample
            # L2 regularization on the weights only
            layer.weights = layer.weights - learning_rate * (mean_grad_w + reg_lambda * layer.weights)
            if layer.biases is not None:
                layer.biases = layer.biases - learning_rate * mean_grad_b

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
        # for each sample, run a forward pass and append the predicted label to YPredict
        if threshold is None:
            threshold = 0.5
        for x in X:
            _, activations = self.forward(np.asarray(x, dtype=float).reshape(-1))
            out = activations[-1]
            if len(out) == 1:
                YPredict.append(1 if out[0] > threshold else 0)
            else:
                YPredict.append(np.argmax(out))
        ##### end of your code #####

        # return as a numpy array
        return np.array(YPredict)


# ---------------------------------------------------------------- Q2.5

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
print("first and last loss:", loss[0], loss[-1])

# plot the losses, the curve should be decreasing
plt.plot([i for i in range(epochs)], loss)
plt.title("Training Loss")
plt.xlabel("Epoch")
plt.show()
