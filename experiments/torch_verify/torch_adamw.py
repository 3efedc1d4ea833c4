"""torch_adamw.py - torch.optim.AdamW plugged into verify_golden.py: the
adapter a stock torch.optim optimizer needs (README.md next to this file).

    ./lionmuon golden g.safetensors --optimizer adamw --adamw-eps-mode torch
    /usr/bin/python3 verify_golden.py g.safetensors --optimizer torch_adamw:TorchAdamW

torch.optim.AdamW is `--adamw-eps-mode torch` (eps after the bias
correction) with decoupled weight decay p <- p (1 - lr wd)."""
import torch


class TorchAdamW(torch.optim.AdamW):
    def __init__(self, named_params, cfg):
        self.names = [n for n, _ in named_params]
        super().__init__([p for _, p in named_params], lr=cfg["lr_adamw"],
                         betas=(cfg["adamw_beta1"], cfg["adamw_beta2"]), eps=cfg["adamw_eps"],
                         weight_decay=cfg["weight_decay"])
        self.base_lr = cfg["lr_adamw"]
        self.max_norm = cfg["grad_clip"]

    def step(self, t, lr_scale):
        """p.grad holds the gradients before clipping: clip, set the
        schedule's rate, and take torch's step (which counts t itself)."""
        params = [p for g in self.param_groups for p in g["params"]]
        if self.max_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, self.max_norm)
        for g in self.param_groups:
            g["lr"] = self.base_lr * lr_scale
        super().step()
