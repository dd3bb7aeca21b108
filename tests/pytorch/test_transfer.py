"""A new head and a frozen backbone: only the head learns."""

import pytest
import torch

from cnnlib.pytorch.models import LeNet5, get_model
from cnnlib.pytorch.transfer import freeze_backbone, head, replace_head


@pytest.mark.parametrize("name, head_name", [("lenet5", "11"), ("resnet20", "fc"), ("alexnet", "classifier.6")])
def test_replace_head_changes_the_output_size_only(name, head_name):
    with torch.device("meta"):
        model = get_model(name)
    features = head(model)[1].in_features
    assert replace_head(model, 3) is model
    found, layer = head(model)
    assert found == head_name and (layer.in_features, layer.out_features) == (features, 3)


def test_frozen_backbone_leaves_all_but_the_head_unchanged():
    model = freeze_backbone(replace_head(LeNet5(), 3))
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["11.weight", "11.bias"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    loss = torch.nn.functional.cross_entropy(model(torch.randn(4, 1, 32, 32)), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    optimizer.step()
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed == ["11.weight", "11.bias"]


def test_a_model_without_a_linear_layer_has_no_head():
    with pytest.raises(ValueError, match="has no nn.Linear layer"):
        head(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3)))
