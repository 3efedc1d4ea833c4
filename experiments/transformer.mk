# transformer.mk - targets for the transformer (included by the Makefile).
#   make train-small    the default training run (small GPT-2, LionMuon P=2,
#                       built-in corpus) into results/train
#   make golden-verify  a golden file of 4 steps, replayed in PyTorch (float64)
.PHONY: train-small golden-verify
train-small: lionmuon
	./lionmuon train --out results/train

golden-verify: lionmuon build/liblionmuon.so
	mkdir -p results
	./lionmuon golden results/golden.safetensors --steps 4
	$(PYTHON) experiments/torch_verify/verify_golden.py results/golden.safetensors
