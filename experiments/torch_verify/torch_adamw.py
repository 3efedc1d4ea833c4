"""torch_adamw.py - torch.optim.AdamW plugged into verify_golden.py: the
adapter a stock torch.optim optimizer needs (README.md next to this file).

    ./lionmuon golden g.safetensors --optimizer adamw
    /usr/bin/python3 verify_golden.py g.safetensors --optimizer torch_adamw:TorchAdamW

torch.optim.AdamW is `--adamw-eps-mode torch` (eps after the bias
correction, the default of --optimizer adamw) with decoupled weight decay
p <- p (1 - lr wd), here in the paper baseline's two parameter groups when
the file says decay_on = linear (the default of --optimizer adamw): weight
decay on the weights of the nn.Linear layers (cfg["linear_weights"]), none
on the embeddings, norm gains and biases."""
import torch


class TorchAdamW(torch.optim.AdamW):
    def __init__(self, named_params, cfg):
        self.names = [n for n, _ in named_params]
        self.ordered = [p for _, p in named_params]  # clipping's sum in state_dict order
        wd = cfg["weight_decay"]
        if cfg.get("decay_on", "all") == "linear":
            linear = set(cfg["linear_weights"])
            groups = [{"params": [p for n, p in named_params if n in linear], "weight_decay": wd},
                      {"params": [p for n, p in named_params if n not in linear],
                       "weight_decay": 0.0}]
            groups = [g for g in groups if g["params"]]
        else:
            groups = [{"params": [p for _, p in named_params], "weight_decay": wd}]
        super().__init__(groups, lr=cfg["lr_adamw"], betas=(cfg["adamw_beta1"], cfg["adamw_beta2"]),
                         eps=cfg["adamw_eps"])
        self.base_lr = cfg["lr_adamw"]
        self.max_norm = cfg["grad_clip"]

    def step(self, t, lr_scale):
        """p.grad holds the gradients before clipping: clip, set the
        schedule's rate, and take torch's step (which counts t itself)."""
        if self.max_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.ordered, self.max_norm)
        for g in self.param_groups:
            g["lr"] = self.base_lr * lr_scale
        super().step()
