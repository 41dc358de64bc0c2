# Homework 2, Q2. Every function works on ONE sample (1-D vectors), the way the lecture wrote
# them; fit loops over the samples. Correct; test input for `mlplab check`.
import numpy as np
import pandas
import matplotlib.pyplot as plt


def sigmoid(x):
    x = np.clip(x, -500, 500)
    return 1 / (1 + np.exp(-x))

def d_sigmoid(x):
    return sigmoid(x) * (1 - sigmoid(x))

def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)

def l2_loss(YTrue, YPredict):
    d = YTrue - YPredict
    return 0.5 * np.dot(d, d)

def d_l2_loss(YTrue, YPredict):
    return YPredict - YTrue

def cross_entropy_loss(YTrue, YPredict):
    return -np.dot(YTrue, np.log(np.clip(YPredict, 1e-12, None)))

def d_cross_entropy_softmax(YTrue, YPredict):
    return YPredict - YTrue


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
        self.W = rng.uniform(-0.1, 0.1, (self.n_input, self.n_output))
        self.B = rng.uniform(-0.1, 0.1, self.n_output) if self.bias else None
        ##### end of your code #####


class Network:
    def __init__(self, layers, activation_list, d_activation_list, loss_function, d_loss_function):
        self.layers = layers
        self.activation_list = activation_list
        self.d_activation_list = d_activation_list
        self.loss_function = loss_function
        self.d_loss_function = d_loss_function

    def forward(self, x):
        a = [np.ravel(x).astype(float)]
        z = []
        for L, f in zip(self.layers, self.activation_list):
            zz = a[-1] @ L.W
            if L.B is not None:
                zz = zz + L.B
            z.append(zz)
            a.append(f(zz))
        return z, a

    def fit(self, X, Y, lr, lam):
        """
        This is the training function. It should return the average loss over samples.
        """
        loss, n_sample = 0, len(X)
        gW = [np.zeros_like(L.W) for L in self.layers]
        gB = [np.zeros(L.n_output) for L in self.layers]
        for x, y in zip(X, Y):
            y = np.ravel(y).astype(float)
            z, a = self.forward(x)
            loss += self.loss_function(y, a[-1])
            d = self.d_loss_function(y, a[-1])
            if self.d_activation_list[-1]:
                d = d * self.d_activation_list[-1](z[-1])
            for i in reversed(range(len(self.layers))):
                gW[i] += np.outer(a[i], d)
                gB[i] += d
                if i > 0:
                    d = (self.layers[i].W @ d) * self.d_activation_list[i - 1](z[i - 1])
        for i, L in enumerate(self.layers):
            L.W = L.W - lr * (gW[i] / n_sample + lam * L.W)
            if L.B is not None:
                L.B = L.B - lr * gB[i] / n_sample
        return loss / n_sample

    def predict(self, X, threshold = None):
        YPredict = []
        for x in X:
            out = self.forward(x)[1][-1]
            if len(out) == 1:
                YPredict.append(int(out[0] > (0.5 if threshold is None else threshold)))
            else:
                YPredict.append(int(np.argmax(out)))
        return np.array(YPredict)


from sklearn import datasets
X, Y = datasets.load_iris(return_X_y = True)
X, Y = X[:100, :2], Y[:100]
model = Network([Layer(2, 4), Layer(4, 1)], [sigmoid, sigmoid], [d_sigmoid, d_sigmoid], l2_loss, d_l2_loss)
loss = [model.fit(X, Y, 1e-2, 0) for epoch in range(100)]
plt.plot(loss)
plt.show()
