"""One way to say "use this many threads for a while": torch's intra-op pool and the BLAS/OpenMP pools
of numpy and scikit-learn (threadpoolctl, a scikit-learn dependency), restored afterwards.

The digits CNN and the judge's classifiers are tiny: on a busy 2-core machine one thread was many
times faster than several competing ones (measured: fitting the judge's logistic regression took
44 s with the default pools and 0.2 s with one thread; a 224-px digits run 2.4 s per label on one
thread against 33 s on two)."""
from contextlib import contextmanager

import torch


@contextmanager
def limit_threads(n=1, blas=True):
    """Run on ``n`` threads for the duration, then restore the previous settings.

    ``n=None`` changes nothing.  ``blas=False`` leaves the BLAS/OpenMP pools alone (the
    optimization loop only runs torch, and limiting those pools costs a little time)."""
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        if blas:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(n):
                yield
        else:
            yield
    finally:
        torch.set_num_threads(old)
