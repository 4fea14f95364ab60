"""The data and the trained network: the bundled digits, their split, the ReLU network.

:func:`load_digits_split` loads scikit-learn's 1,797 bundled 8 x 8 digits
(nothing downloaded) with a fixed stratified split; :func:`train_relu_network`
trains ``MLPClassifier(activation='relu')`` on them and returns its weights as
a :class:`ReluNetwork`, whose forward pass is plain numpy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = ["Digits", "load_digits_split", "ReluNetwork", "train_relu_network"]


@dataclass
class Digits:
    """scikit-learn's bundled digits, pixels scaled to [0, 1], with a fixed split.

    Attributes
    ----------
    X_train, X_test : ndarray, shape (n, 64)
        Pixel intensities / 16.
    y_train, y_test : ndarray of int
        Labels 0-9.
    index_test : ndarray of int
        Indices of the test images in ``load_digits()``.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    index_test: np.ndarray

    @property
    def images_test(self) -> np.ndarray:
        """Test images, shape (n, 8, 8), in [0, 1]."""
        return self.X_test.reshape(-1, 8, 8)


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("isingneuron.network needs scikit-learn (its bundled digits and "
                          "MLPClassifier): pip install -e '.[paper]'") from None


def load_digits_split(test_size: int = 360, seed: int = 0) -> Digits:
    """Load the 1,797 bundled 8 x 8 digits and split them, stratified, with a fixed seed.

    Parameters
    ----------
    test_size : int
        Number of test images (360 is 20 %).
    seed : int
        ``random_state`` of :func:`sklearn.model_selection.train_test_split`.
    """
    _sklearn()
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    X = d.data / 16.0
    idx = np.arange(len(X))
    Xtr, Xte, ytr, yte, _, ite = train_test_split(X, d.target, idx, test_size=test_size,
                                                  random_state=seed, stratify=d.target)
    return Digits(Xtr, Xte, ytr.astype(int), yte.astype(int), ite)


@dataclass
class ReluNetwork:
    """A fully connected network: ReLU hidden layers, a linear output layer.

    Attributes
    ----------
    weights : list of ndarray
        ``weights[l]`` has shape (n_in, n_out); the last one is the output layer.
    biases : list of ndarray
        ``biases[l]`` has shape (n_out,).
    train_accuracy : float or None
        Accuracy on the training set, if trained here.
    info : dict
        Training details (iterations, converged).
    """

    weights: list
    biases: list
    train_accuracy: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def n_hidden(self) -> int:
        """Number of hidden layers."""
        return len(self.weights) - 1

    @property
    def hidden_sizes(self) -> list[int]:
        return [int(w.shape[1]) for w in self.weights[:-1]]

    def pre_activations(self, X) -> list[np.ndarray]:
        """Inputs ``z = a W + b`` of every hidden layer for inputs ``X`` (n, n_in)."""
        a = np.asarray(X, float)
        zs = []
        for W, b in zip(self.weights[:-1], self.biases[:-1]):
            z = a @ W + b
            zs.append(z)
            a = np.maximum(z, 0.0)
        return zs

    def hidden(self, X) -> list[np.ndarray]:
        """ReLU outputs of every hidden layer."""
        return [np.maximum(z, 0.0) for z in self.pre_activations(X)]

    def logits(self, X) -> np.ndarray:
        """Output-layer values (n, n_classes); the class is their argmax."""
        a = self.hidden(X)[-1] if self.n_hidden else np.asarray(X, float)
        return a @ self.weights[-1] + self.biases[-1]

    def predict(self, X) -> np.ndarray:
        return np.argmax(self.logits(X), axis=1)


def train_relu_network(X, y, hidden: Sequence[int] = (32,), seed: int = 0,
                       alpha: float = 1e-4, max_iter: int = 2000) -> ReluNetwork:
    """Train ``MLPClassifier(activation='relu')`` (Adam) and return its weights.

    Parameters
    ----------
    X : ndarray (n, n_in)
        Training inputs.
    y : ndarray (n,)
        Integer labels.
    hidden : sequence of int
        Units per hidden layer.
    seed : int
        ``random_state`` of the classifier.
    alpha : float
        L2 penalty.
    max_iter : int
        Largest number of epochs.
    """
    _sklearn()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=tuple(int(h) for h in hidden), activation="relu",
                        solver="adam", alpha=alpha, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(X, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if list(clf.classes_) != list(range(len(clf.classes_))):  # pragma: no cover
        raise ValueError("labels must be 0 .. n_classes - 1")
    net = ReluNetwork([np.array(w, float) for w in clf.coefs_],
                      [np.array(b, float) for b in clf.intercepts_])
    net.train_accuracy = float(np.mean(net.predict(X) == y))
    net.info = {"epochs": int(clf.n_iter_), "converged": bool(converged),
                "hidden": [int(h) for h in hidden], "alpha": float(alpha), "seed": int(seed)}
    return net
