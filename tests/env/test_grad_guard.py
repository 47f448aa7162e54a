"""The autouse guard in tests/conftest.py: a test that switches autograd off globally (as
fadtk's and kadtk's FAD classes do) does not leak it into the next test."""

import torch


def test_a_peer_switches_autograd_off():
    torch.autograd.set_grad_enabled(False)
    assert not torch.is_grad_enabled()


def test_the_next_test_has_autograd_back():
    assert torch.is_grad_enabled()
