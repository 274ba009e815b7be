"""Optimizers with PyTorch's names, defaults and update formulas, and learning-rate schedules.

>>> import chainrule as cr
>>> w = cr.tensor([1.0, -1.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad()
...     loss = (w ** 2).sum()
...     loss.backward()         # gradient 2w, so each step halves w
...     opt.step()
>>> w
tensor([ 0.125, -0.125], requires_grad=True)
"""

from chainrule.optim import lr_scheduler
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam
from chainrule.optim.adamw import AdamW
from chainrule.optim.newton import Newton
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Newton",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
]
