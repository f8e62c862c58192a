"""The training loop of Park et al. 2019: one generator step, then one discriminator step, per batch.

Generator step: the style encoder (VAE runs) encodes the real photo, G renders the label map, and the
multi-scale discriminator (frozen for this step) scores fake and real in one batch; the losses are hinge
GAN + feature matching + VGG + KL (+ optional L1). Discriminator step: hinge loss on the same fake,
detached (the reference renders it a second time; reusing it saves a generator pass per iteration).
Learning rates follow TTUR and the linear decay of the paper; iteration counts, not wall time, drive
everything, so a resumed run continues exactly where the checkpoint left off.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from spade.device import cpu_name
from spade.errors import GauguinError

from . import distributed as ddp
from .data import EpochSampler, build_dataset, own_process_group
from .errors import TrainError
from .losses import VGGLoss, feature_matching_loss, hinge_d_loss, hinge_g_loss, kld_loss
from .networks import Networks, OneHot, build_networks, load_init
from .options import TrainConfig
from .progress import LossLog, ProgressBar, save_sample_grid
from .state import (LATEST, TrainingState, find_resume_point, load_training_state, save_training_checkpoint)
from .vgg import VGG19

logger = logging.getLogger(__name__)

ARCHITECTURE_OPTIONS = ("label_set", "input_classes", "use_vae", "z_dim", "num_generator_filters", "num_encoder_filters",
                        "num_discriminator_filters", "num_discriminators", "num_discriminator_layers",
                        "num_upsampling_layers", "spade_hidden", "norm_G", "crop_size", "no_instance")
EXIT_INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _split_batch(features: list[list[torch.Tensor]], n: int) -> tuple[list[list[torch.Tensor]], list[list[torch.Tensor]]]:
    """Discriminator outputs of cat([fake, real]) -> (outputs for fake, outputs for real)."""
    fake = [[f[:n] for f in scale] for scale in features]
    real = [[f[n:] for f in scale] for scale in features]
    return fake, real


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


class Trainer:
    """One training run: construct, then run() until --max_iters / --total_epochs or a stop signal."""

    def __init__(self, cfg: TrainConfig, info: ddp.DistInfo, device: torch.device,
                 log: Callable[[str], None] = logger.info):
        self.cfg, self.info, self.device = cfg, info, device
        self.log = log if info.is_main else (lambda *a, **k: None)
        self.checkpoint_dir = Path(cfg.checkpoint_dir)
        self.stop_signal: int | None = None
        if cfg.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        elif device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        if cfg.batch_size % info.world_size:
            raise TrainError(f"--batch_size {cfg.batch_size} must be a multiple of the {info.world_size} processes")
        self.amp_dtype = self._amp_dtype()

        resume_from = find_resume_point(self.checkpoint_dir)
        if resume_from is not None and not cfg.resume:
            raise TrainError(f"--checkpoint_dir {self.checkpoint_dir} already holds a run; drop --no_resume to "
                             f"continue it or choose another folder")
        torch.manual_seed(cfg.seed)
        loaded = None
        if resume_from is not None:
            from spade.checkpoint import load_checkpoint
            try:
                bundle = load_checkpoint(resume_from)
            except GauguinError as e:
                raise TrainError(f"cannot resume from {resume_from}: {e}") from None
            loaded = load_training_state(resume_from)
            self._check_same_run(loaded.state.config)
            bundle.generator_state = loaded.generator
            if loaded.encoder is not None:
                bundle.encoder_state = loaded.encoder
            try:
                self.nets = build_networks(cfg, bundle, loaded.discriminator)
            except TrainError as e:
                raise TrainError(f"{self.checkpoint_dir} holds a run with other settings ({e}); "
                                 f"use another --checkpoint_dir") from None
            self.state = loaded.state
            if cfg.init_from:
                self.log(f"note: resuming {resume_from}; --init_from is used only by a fresh run")
        elif cfg.init_from:
            bundle, disc = load_init(cfg)
            if bundle.generator_config.use_vae != cfg.use_vae:
                kind = "a VAE" if bundle.generator_config.use_vae else "not a VAE"
                self.log(f"note: --init_from {Path(cfg.init_from).name} is {kind} model; training it as such")
            self.nets = build_networks(cfg, bundle, None)
            if disc is not None:
                try:
                    ddisc = self.nets.discriminator
                    from spade.checkpoint import load_state_strict
                    load_state_strict(ddisc, disc, "discriminator")
                except GauguinError as e:
                    self.log(f"note: the discriminator beside --init_from does not fit ({e}); training a new one")
            self.state = TrainingState()
        else:
            self.nets = build_networks(cfg)
            self.state = TrainingState()
        self.use_vae = self.nets.generator.config.use_vae
        self.resumed_from = resume_from

        label_count = len(self.nets.label_set)
        self.dataset = build_dataset(cfg, self.nets.label_set)
        self.sampler = EpochSampler(len(self.dataset), cfg.batch_size, cfg.prob_dataset, cfg.seed,
                                    info.rank, info.world_size)
        self.per_rank_batch = cfg.batch_size // info.world_size
        self.loader = DataLoader(self.dataset, batch_size=self.per_rank_batch, sampler=self.sampler,
                                 num_workers=cfg.num_workers, pin_memory=device.type == "cuda", drop_last=True,
                                 persistent_workers=False, worker_init_fn=own_process_group)
        g_cfg = self.nets.generator.config
        if cfg.crop_size // g_cfg.downscale == 1 and (g_cfg.param_free_norm == "instance" or self.per_rank_batch == 1):
            raise TrainError(f"--crop_size {cfg.crop_size} gives the generator a 1x1 first layer, where "
                             f"{g_cfg.param_free_norm} norm has no statistics with {self.per_rank_batch} sample(s) per "
                             f"process: use a larger --crop_size" + (", a larger --batch_size" if g_cfg.param_free_norm
                                                                      == "batch" else " or --norm_G batch"))
        self.bpe = self.sampler.batches_per_epoch
        self.total_iters = cfg.max_iters if cfg.max_iters else cfg.total_epochs * self.bpe
        if info.is_main:
            self._check_first_sample()

        self.one_hot = OneHot(self.nets.label_to_channel, self.nets.generator.config.semantic_nc,
                              self.nets.instance_edges).to(device)
        self.seen = (self.state.seen_classes.to(device) if self.state.seen_classes is not None
                     else torch.zeros(label_count, dtype=torch.bool, device=device))
        self.G = ddp.wrap(ddp.sync_batchnorm(self.nets.generator, info, device).to(device), info, device)
        self.E = ddp.wrap(self.nets.encoder.to(device), info, device) if self.nets.encoder is not None else None
        self.D = ddp.wrap(self.nets.discriminator.to(device), info, device)
        self.vgg_loss = VGGLoss(VGG19.from_file(cfg.vgg_weights)).to(device) if cfg.use_vgg else None
        self._build_optimizers()
        self.noise = torch.Generator(device=device)
        if loaded is not None:
            self._restore(loaded.state)

    # -- set-up ------------------------------------------------------------------------------------------
    def _check_same_run(self, saved: dict) -> None:
        """A resume must not silently change the networks or the label set under the user's feet."""
        if saved.get("init_from") and not self.cfg.init_from:
            return  # a fine-tune run: its architecture came from the checkpoint, not from these options
        for key in ARCHITECTURE_OPTIONS:
            mine = getattr(self.cfg, key)
            if key in saved and saved[key] != mine:
                raise TrainError(f"{self.checkpoint_dir} holds a run with --{key} {saved[key]} (now {mine}); "
                                 f"use the same value to resume or another --checkpoint_dir")

    def _amp_dtype(self) -> torch.dtype | None:
        mode = self.cfg.amp
        if mode == "off":
            return None
        if self.device.type != "cuda":
            self.log(f"note: --amp {mode} is for CUDA; training in float32 on {self.device.type}")
            return None
        if mode == "bf16" and not torch.cuda.is_bf16_supported():
            raise TrainError("--amp bf16: this GPU has no bfloat16 support; use --amp fp16")
        return torch.bfloat16 if mode == "bf16" else torch.float16

    def _check_first_sample(self) -> None:
        """Load one sample now so a broken dataset fails before the networks are set up on the device."""
        self.dataset[(0, 0)]

    def _build_optimizers(self) -> None:
        cfg = self.cfg
        if cfg.no_TTUR:
            betas, self.lr_G, self.lr_D = (cfg.beta1, cfg.beta2), cfg.lr, cfg.lr
        else:
            betas, self.lr_G, self.lr_D = (0.0, 0.9), cfg.lr / 2, cfg.lr * 2
        g_params = list(self.G.parameters()) + (list(self.E.parameters()) if self.E is not None else [])
        self.opt_G = torch.optim.Adam(g_params, lr=self.lr_G, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=self.lr_D, betas=betas)
        fp16 = self.amp_dtype == torch.float16
        self.scaler_G = torch.amp.GradScaler("cuda", enabled=fp16)
        self.scaler_D = torch.amp.GradScaler("cuda", enabled=fp16)

    def _restore(self, state: TrainingState) -> None:
        try:
            self.opt_G.load_state_dict(state.optimizers["G"])
            self.opt_D.load_state_dict(state.optimizers["D"])
        except (KeyError, ValueError, RuntimeError) as e:
            raise TrainError(f"{self.resumed_from}: optimiser state does not fit this run ({e}); use another "
                             f"--checkpoint_dir") from None
        if self.scaler_G.is_enabled() and "G" in state.scalers:
            self.scaler_G.load_state_dict(state.scalers["G"])
            self.scaler_D.load_state_dict(state.scalers["D"])
        if "torch_cpu" in state.rng:
            torch.set_rng_state(state.rng["torch_cpu"])
        if self.device.type == "cuda":
            states = [state.rng[f"torch_cuda_{i}"] for i in range(torch.cuda.device_count())
                      if f"torch_cuda_{i}" in state.rng]
            if len(states) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(states)
        self.log(f"resuming from {self.resumed_from} at iteration {state.iteration} (epoch {state.epoch})")

    # -- schedule ----------------------------------------------------------------------------------------
    def lr_factor(self, iteration: int) -> float:
        """1 until decay_epoch/total_epochs of the run, then linear to 0 at its end (Park et al. 2019)."""
        start = self.total_iters * self.cfg.decay_epoch / self.cfg.total_epochs
        if iteration < start or self.total_iters <= start:
            return 1.0
        return max(0.0, 1.0 - (iteration - start) / (self.total_iters - start))

    def _set_lr(self, iteration: int) -> None:
        f = self.lr_factor(iteration)
        for group in self.opt_G.param_groups:
            group["lr"] = self.lr_G * f
        for group in self.opt_D.param_groups:
            group["lr"] = self.lr_D * f

    # -- one iteration -----------------------------------------------------------------------------------
    def _autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.amp_dtype)

    def train_step(self, batch: dict, iteration: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """One G step and one D step; returns the detached losses and the generated batch."""
        cfg = self.cfg
        labels = batch["label"].to(self.device, non_blocking=True)
        real = batch["image"].to(self.device, non_blocking=True)
        self.seen |= torch.bincount(labels.flatten(), minlength=len(self.seen))[: len(self.seen)] > 0
        instances = batch["instance"].to(self.device, non_blocking=True) if "instance" in batch else None
        seg = self.one_hot(labels, instances)
        n = real.shape[0]
        d_plain = _unwrap(self.D)
        losses: dict[str, torch.Tensor] = {}

        warmup = iteration < cfg.discriminator_warmup  # the generator and encoder stay as they are
        d_plain.requires_grad_(False)
        with torch.no_grad() if warmup else nullcontext(), self._autocast():
            z = None
            if self.use_vae:
                mu, logvar = self.E(real)
                # the whole global batch's noise from (seed, iteration), this rank's rows of it: the same z
                # for a sample whatever the number of processes, and nothing to save for an exact resume
                self.noise.manual_seed((cfg.seed * 1_000_003 + iteration) % 2**62)
                eps = torch.randn((cfg.batch_size, mu.shape[1]), generator=self.noise, device=self.device,
                                  dtype=mu.dtype)[self.info.rank::self.info.world_size]
                z = eps * torch.exp(0.5 * logvar) + mu
                # summed over the batch as in the reference: scaled so DDP's gradient averaging keeps the sum
                losses["KLD"] = kld_loss(mu, logvar) * cfg.lambda_kld * self.info.world_size
            fake = self.G(seg, z)
            pred = d_plain(torch.cat([torch.cat([seg, fake], 1), torch.cat([seg, real], 1)], 0))
            pred_fake, pred_real = _split_batch(pred, n)
            losses["G_GAN"] = hinge_g_loss(pred_fake)
            if cfg.use_feature_loss:
                losses["G_feat"] = feature_matching_loss(pred_fake, pred_real) * cfg.lambda_features
            if self.vgg_loss is not None:
                losses["G_VGG"] = self.vgg_loss(fake, real) * cfg.lambda_vgg
            if cfg.lambda_l1 > 0:
                losses["G_L1"] = nn.functional.l1_loss(fake.float(), real.float()) * cfg.lambda_l1
        if not warmup:
            g_total = sum(losses.values())
            self.opt_G.zero_grad(set_to_none=True)
            self.scaler_G.scale(g_total).backward()
            self.scaler_G.step(self.opt_G)
            self.scaler_G.update()

        d_plain.requires_grad_(True)
        fake = fake.detach()
        with self._autocast():
            pred = self.D(torch.cat([torch.cat([seg, fake], 1), torch.cat([seg, real], 1)], 0))
            pred_fake, pred_real = _split_batch(pred, n)
            losses["D_fake"] = hinge_d_loss(pred_fake, real=False)
            losses["D_real"] = hinge_d_loss(pred_real, real=True)
        self.opt_D.zero_grad(set_to_none=True)
        self.scaler_D.scale(losses["D_fake"] + losses["D_real"]).backward()
        self.scaler_D.step(self.opt_D)
        self.scaler_D.update()
        return {k: v.detach().float() for k, v in losses.items()}, fake

    # -- the loop ----------------------------------------------------------------------------------------
    def loss_names(self) -> list[str]:
        names = []
        if self.use_vae:
            names.append("KLD")
        names.append("G_GAN")
        if self.cfg.use_feature_loss:
            names.append("G_feat")
        if self.vgg_loss is not None:
            names.append("G_VGG")
        if self.cfg.lambda_l1 > 0:
            names.append("G_L1")
        return names + ["D_fake", "D_real"]

    def _on_signal(self, signum: int, _frame) -> None:
        if self.stop_signal is not None:
            raise KeyboardInterrupt
        self.stop_signal = signum
        self.log(f"\n{signal.Signals(signum).name}: saving a checkpoint at the end of this iteration "
                 f"(again to quit without saving)")

    def _install_signals(self) -> dict:
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[sig] = signal.signal(sig, self._on_signal)
            except ValueError:  # not the main thread
                pass
        return previous

    def run(self, stop_at: int | None = None) -> int:
        """Train; returns 0 when done, 130/143 after a SIGINT/SIGTERM that saved a checkpoint.

        stop_at: behave as if interrupted after that iteration (checkpoint, then return); for time-sliced
        jobs and for the resume tests.
        """
        cfg, st, info = self.cfg, self.state, self.info
        names = self.loss_names()
        main = info.is_main
        log = LossLog(cfg.log_path, names, st.iteration) if main else None
        bar = ProgressBar(self.total_iters, st.iteration) if main else None
        if main:
            self.log(f"training {self.describe()}")
        previous = self._install_signals()
        t_start = time.perf_counter()
        elapsed_before = st.elapsed_s
        sums = torch.zeros(len(names), device=self.device)
        count = 0
        last_save = st.iteration
        stop = st.iteration >= self.total_iters
        try:
            while not stop:
                self.sampler.set_epoch(st.epoch, st.batch_in_epoch)
                for batch in self.loader:
                    self._set_lr(st.iteration)
                    losses, fake = self.train_step(batch, st.iteration)
                    st.iteration += 1
                    st.batch_in_epoch += 1
                    if st.batch_in_epoch >= self.bpe:
                        st.epoch, st.batch_in_epoch = st.epoch + 1, 0
                    sums += torch.stack([losses[k] for k in names])
                    count += 1
                    st.elapsed_s = elapsed_before + time.perf_counter() - t_start
                    done = st.iteration >= self.total_iters
                    interrupted = ddp.any_flag(self.stop_signal is not None, info, self.device) or (
                        stop_at is not None and st.iteration >= stop_at and not done)
                    if st.iteration % cfg.print_info_freq == 0 or done or interrupted:
                        means = ddp.all_reduce_mean(sums / max(count, 1), info).tolist()
                        st.losses = dict(zip(names, means))
                        sums.zero_()
                        count = 0
                        if main:
                            rate = bar.rate_now(st.iteration)
                            log.log({"iteration": st.iteration, "epoch": st.epoch, "elapsed_s": st.elapsed_s,
                                     "it_per_s": rate, "lr_G": self.opt_G.param_groups[0]["lr"],
                                     "lr_D": self.opt_D.param_groups[0]["lr"], **st.losses})
                            bar.update(st.iteration, st.epoch, st.losses, force_line=True)
                    elif main:
                        bar.update(st.iteration, st.epoch, st.losses)
                    if main and (st.iteration % cfg.save_img_freq == 0 or done):
                        save_sample_grid(cfg.results_path / f"iter_{st.iteration:07d}.png", batch["label"], fake,
                                         batch["image"], self.nets.label_set)
                    if st.iteration % cfg.save_model_freq == 0 or done or interrupted:
                        self.save()
                        last_save = st.iteration
                    if done or interrupted:
                        stop = True
                        break
        except KeyboardInterrupt:
            if main:
                self.log(f"\nstopped without saving; the last checkpoint is at iteration {last_save}")
            return 130
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if main:
                bar.close()
                log.close()
        if st.iteration < self.total_iters:
            self.log(f"interrupted: checkpoint saved at iteration {st.iteration} in {self.checkpoint_dir / LATEST}; "
                     f"run the same command again to resume")
            return EXIT_INTERRUPTED.get(self.stop_signal, 130)
        self.log(f"done: {st.iteration} iterations in {st.elapsed_s:.1f} s; model in {self.checkpoint_dir / LATEST}")
        return 0

    # -- checkpoints -------------------------------------------------------------------------------------
    def hardware(self) -> dict:
        d = self.device
        return {"device": str(d), "device_name": torch.cuda.get_device_name(d) if d.type == "cuda" else cpu_name(),
                "world_size": self.info.world_size,
                "cpu_count": os.cpu_count(), "torch": torch.__version__, "amp": str(self.amp_dtype or "off")}

    def describe(self) -> str:
        g = self.nets.generator.config
        params = sum(p.numel() for p in self.nets.generator.parameters())
        return (f"{self.cfg.dataset} data ({len(self.dataset)} samples, {self.bpe} iterations/epoch), "
                f"{self.total_iters} iterations, batch {self.cfg.batch_size} x {self.cfg.crop_size}px, "
                f"G ngf {g.ngf} ({params / 1e6:.2f}M parameters){', VAE' if self.use_vae else ''}, "
                f"on {self.device} x{self.info.world_size}")

    def save(self) -> None:
        """Every rank calls this (for the reductions); rank 0 writes."""
        st, info = self.state, self.info
        st.seen_classes = ddp.all_reduce_any(self.seen, info).cpu()
        if not info.is_main:
            return
        st.optimizers = {"G": self.opt_G.state_dict(), "D": self.opt_D.state_dict()}
        st.scalers = {"G": self.scaler_G.state_dict(), "D": self.scaler_D.state_dict()} \
            if self.scaler_G.is_enabled() else {}
        st.rng = {"torch_cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            st.rng.update({f"torch_cuda_{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
        st.config = self.cfg.to_dict()
        st.world_size = info.world_size
        trained = [int(i) for i in np.flatnonzero(st.seen_classes.numpy())]
        record = {"command_line": self.cfg.command_line, "seed": self.cfg.seed, "iterations": st.iteration,
                  "epoch": st.epoch, "elapsed_s": round(st.elapsed_s, 1), "hardware": self.hardware(),
                  "final_losses": {k: round(v, 5) for k, v in st.losses.items()}, "dataset": self.cfg.dataset,
                  "dataset_samples": len(self.dataset), "batch_size": self.cfg.batch_size,
                  "crop_size": self.cfg.crop_size, "init_from": self.cfg.init_from}
        numbered = self.checkpoint_dir / f"iter_{st.iteration:07d}" if self.cfg.save_numbered else None
        save_training_checkpoint(self.checkpoint_dir / LATEST, generator=_unwrap(self.G),
                                 encoder=_unwrap(self.E) if self.E is not None else None,
                                 discriminator=_unwrap(self.D), state=st, label_set=self.nets.label_set,
                                 label_to_channel=self.nets.label_to_channel, trained_classes=trained,
                                 training_record=record, save_dtype=getattr(torch, self.cfg.save_dtype),
                                 name=self.cfg.name or self.checkpoint_dir.resolve().name, numbered=numbered,
                                 instance_edges=self.nets.instance_edges)


def run_training(cfg: TrainConfig, log: Callable[[str], None] = logger.info) -> int:
    """Set up (distributed when under torchrun), train, tear down; messages go to `log` (the CLI prints them)."""
    info, device = ddp.setup(cfg.device)
    # Adam's second moments and small activations drift into denormal floats, which are many times slower
    # on CPUs; flushing them to zero changes nothing measurable and keeps iterations at full speed.
    torch.set_flush_denormal(True)
    try:
        trainer = Trainer(cfg, info, device, log)
        return trainer.run()
    finally:
        ddp.teardown(info)
