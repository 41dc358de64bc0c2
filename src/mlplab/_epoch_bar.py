"""The progress bar of `Network.train(verbose=True)`: the epochs, each with its training loss."""


class EpochBar:
    """Iterates over ``range(epochs)``; when `shown`, as a tqdm bar with the last loss. tqdm is
    imported only then (a bar, even a disabled one, makes a multiprocessing lock)."""

    def __init__(self, epochs, shown):
        self.bar = None
        self.epochs = range(epochs)
        if shown:
            from tqdm.auto import tqdm
            self.epochs = self.bar = tqdm(self.epochs, desc="training", unit="epoch")

    def __iter__(self):
        return iter(self.epochs)

    def show(self, loss):
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4g}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
