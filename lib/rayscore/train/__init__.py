"""Training on Ray Train: reward models and generative score models, with TRL and PEFT.

- reward.py     the train_reward job (RewardJobConfig, run): TRL RewardTrainer, LoRA or full,
                checks and calibration saved with the model
- sft.py        the train_sft job (SftJobConfig, run): TRL SFTTrainer + LoRA on a causal LM
- sft_eval.py   a generative score model against real scores, next to its base model
- scaling.py    Ray Train plumbing shared by both jobs: resources, storage, failures, checkpoints
- deepspeed.py  DeepSpeed ZeRO: a typed spec in, a DeepSpeed config dict out
- curves.py     training curves as a PNG from the trainer's log history
"""
