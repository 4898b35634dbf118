"""Training on Ray Train: reward models, classifiers and generative score models, with TRL and PEFT.

- reward.py     the train_reward job (RewardJobConfig, run): TRL RewardTrainer, LoRA or full,
                checks and calibration saved with the model
- reward_eval.py a reward model on held-out pairs: accuracy, swap check, calibration and the
                operating points of the three outcomes (OutcomeSpec)
- classifier.py the train_classifier job (ClassifierJobConfig, run): HF Trainer on a sequence
                classifier (N classes) or regressor (one score) on pointwise labels
- sft.py        the train_sft job (SftJobConfig, run): TRL SFTTrainer + LoRA on a causal LM
- sft_eval.py   a generative score model against real scores, next to its base model
- scaling.py    Ray Train plumbing shared by every job: resources, storage, failures, checkpoints
- deepspeed.py  DeepSpeed ZeRO: a typed spec in, a DeepSpeed config dict out; training_problems
                (precision, DeepSpeed and LoRA settings that cannot run together)
- curves.py     training curves as a PNG from the trainer's log history (write_curves)
"""
