"""The command line of the trainer and the TrainConfig it produces.

Option names and meanings follow the original semantic-image-synthesis trainer (`--image_dir`,
`--lambda_vgg`, `--no_TTUR`, ...); the additions are the ones users of such trainers expect (device, seed,
workers, AMP, resume, fine-tuning) plus what the bundled model's recipe needs (procedural data,
`--max_iters`, `--lambda_l1`). Everything past argument parsing works on TrainConfig, never on argparse.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from spade.usage import UsageParser

from .errors import TrainError

DATASETS = ("folders", "ade20k", "coco", "cityscapes", "procedural")
DATASET_LABEL_SETS = {"coco": "cocostuff", "cityscapes": "cityscapes"}
AMP_MODES = ("off", "bf16", "fp16")


@dataclass
class TrainConfig:
    """Every setting of a training run; saved with each checkpoint so a resume can compare."""

    # data
    dataset: str = "folders"
    image_dir: str | None = None
    label_dir: str | None = None
    dataset_size: int = 10000
    procedural_settings: str = ""
    real_pairs: str | None = None
    real_labels: str | None = None
    real_share: float = 0.5
    label_set: str = "ade20k"
    input_classes: str = ""
    no_instance: bool = False
    img_height: int = 286
    img_width: int = 286
    crop_size: int = 256
    no_flip: bool = False
    batch_size: int = 1
    pairing_check: bool = True
    prob_dataset: float = 1.0
    num_workers: int = 2
    # architecture
    use_vae: bool = False
    z_dim: int = 256
    num_generator_filters: int = 64
    num_encoder_filters: int = 64
    num_discriminator_filters: int = 64
    num_discriminators: int = 2
    num_discriminator_layers: int = 4
    num_upsampling_layers: str = "normal"
    spade_hidden: int = 128
    norm_G: str = "batch"
    # losses
    lambda_kld: float = 0.05
    lambda_features: float = 10.0
    no_feature_loss: bool = False
    lambda_vgg: float = 10.0
    no_vgg_loss: bool = False
    vgg_weights: str | None = None
    lambda_l1: float = 0.0
    # optimisation
    lr: float = 0.0002
    beta1: float = 0.0
    beta2: float = 0.9
    no_TTUR: bool = False
    total_epochs: int = 200
    decay_epoch: int = 100
    max_iters: int | None = None
    discriminator_warmup: int = 0
    # run
    device: str = "auto"
    seed: int = 0
    amp: str = "off"
    deterministic: bool = False
    init_from: str | None = None
    name: str | None = None
    save_dtype: str = "float32"
    print_info_freq: int = 100
    save_img_freq: int = 500
    save_model_freq: int = 2000
    save_numbered: bool = False
    checkpoint_dir: str = "checkpoints/spade"
    log_dir: str | None = None
    results_dir: str | None = None
    resume: bool = True
    command_line: str = ""

    @property
    def log_path(self) -> Path:
        return Path(self.log_dir) if self.log_dir else Path(self.checkpoint_dir) / "logs"

    @property
    def results_path(self) -> Path:
        return Path(self.results_dir) if self.results_dir else Path(self.checkpoint_dir) / "samples"

    @property
    def use_vgg(self) -> bool:
        return not self.no_vgg_loss and self.lambda_vgg > 0

    @property
    def use_feature_loss(self) -> bool:
        return not self.no_feature_loss and self.lambda_features > 0

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to the help of an option that takes a value, when it has a default to state and
    its help does not already say what the default is. A flag (`--no_resume`) gets none: its help says
    what it turns on or off, and the value of its destination would read backwards."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (action.nargs == 0 or not action.option_strings or action.default in (None, "", argparse.SUPPRESS)
                or "default" in text.lower()):
            return text
        return text + " (default: %(default)s)"


def build_parser(prog: str = "gauguin train") -> argparse.ArgumentParser:
    d = TrainConfig()
    p = UsageParser(prog=prog, formatter_class=DefaultsHelpFormatter,
                description="Train a SPADE model (generator, multi-scale discriminator and optionally the style "
                            "encoder, as in Park et al. 2019). A run folder loads in `gauguin render "
                            "--model DIR` and in the app. Rerunning the same command resumes from "
                            "--checkpoint_dir. Multi-GPU: torchrun --nproc-per-node N -m train ...")
    g = p.add_argument_group("data")
    g.add_argument("--dataset", choices=DATASETS, default=d.dataset,
                   help="folders: --image_dir and --label_dir paired by file stem; ade20k: --image_dir is "
                        "ADEChallengeData2016 (images/training, annotations/training); coco: --image_dir holds "
                        "train_img, train_label and optionally train_inst (COCO-Stuff); cityscapes: --image_dir "
                        "holds leftImg8bit/train and gtFine/train; procedural: generated landscapes "
                        "(--dataset_size scenes)")
    g.add_argument("--image_dir", help="folder of photos (searched recursively), or the ADE20K root")
    g.add_argument("--label_dir", help="folder of label maps (index PNGs or palette RGB images) with the same "
                                       "file stems as the photos")
    g.add_argument("--dataset_size", type=int, default=d.dataset_size, help="scenes per epoch for --dataset "
                                                                              "procedural")
    from train.procedural.scene import setting_weights
    defaults = ", ".join(f"{name} {weight}" for name, weight in setting_weights().items())
    g.add_argument("--procedural_settings", default=d.procedural_settings,
                   help="for --dataset procedural: sampling weights of some lighting settings, overriding the "
                        f"defaults ({defaults}), e.g. 'snow=0.3'")
    g.add_argument("--real_pairs", metavar="DIR",
                   help="for --dataset procedural: mix in real photographs of the fit set, a folder written by "
                        "python -m train.real_photos fit DIR, paired with their label maps (--real_labels)")
    g.add_argument("--real_labels", metavar="DIR",
                   help="label maps of the --real_pairs photos, by name (default: the repository's "
                        "train/real_labels)")
    g.add_argument("--real_share", type=float, default=d.real_share,
                   help="with --real_pairs: the share of each epoch's samples that are real pairs")
    g.add_argument("--label_set", default=d.label_set,
                   help="'ade20k', 'cocostuff', 'cityscapes' or a CSV class table (id,name,r,g,b); --dataset coco "
                        "and cityscapes use their own")
    g.add_argument("--no_instance", action="store_true",
                   help="--dataset coco/cityscapes: no instance-edge input channel (by default the edges come "
                        "from the instance maps, or from the label maps where there are none)")
    g.add_argument("--input_classes", default=d.input_classes,
                   help="comma-separated class ids that get an input channel of their own ('procedural': the "
                        "classes the procedural generator paints); every other id shares one last channel. "
                        "Fewer channels make SPADE much cheaper. Default: one channel per class")
    g.add_argument("--semantic_label_path", help="file with the semantic labels (a CSV class table); same as "
                                                 "--label_set PATH")
    g.add_argument("--img_height", type=int, default=d.img_height, help="height images are resized to")
    g.add_argument("--img_width", type=int, default=d.img_width, help="width images are resized to")
    g.add_argument("--crop_size", type=int, default=d.crop_size,
                   help="side of the random square crop taken identically from image and label; the model's "
                        "training size")
    g.add_argument("--no_flip", action="store_true", help="no random horizontal flips")
    g.add_argument("--batch_size", type=int, default=d.batch_size,
                   help="mini-batch size of one optimiser step (split across torchrun processes)")
    g.add_argument("--pairing_check", dest="pairing_check", action="store_true", default=d.pairing_check,
                   help="stop with the list of photos without label maps and vice versa (the default)")
    g.add_argument("--no_pairing_check", dest="pairing_check", action="store_false",
                   help="train on the pairs found, skipping unmatched files")
    g.add_argument("--prob_dataset", type=float, default=d.prob_dataset,
                   help="fraction of the dataset drawn (and shuffled) anew for each epoch")
    g.add_argument("--num_workers", type=int, default=d.num_workers, help="data loading processes")

    g = p.add_argument_group("architecture")
    g.add_argument("--use_vae", action="store_true", help="train with the style encoder (VAE)")
    g.add_argument("--z_dim", type=int, default=d.z_dim, help="dimension of the style latent z")
    g.add_argument("--num_generator_filters", type=int, default=d.num_generator_filters, help="ngf")
    g.add_argument("--num_encoder_filters", type=int, default=d.num_encoder_filters, help="encoder width")
    g.add_argument("--num_discriminator_filters", type=int, default=d.num_discriminator_filters, help="ndf")
    g.add_argument("--num_discriminators", type=int, default=d.num_discriminators,
                   help="discriminators in the multi-scale critic")
    g.add_argument("--num_discriminator_layers", type=int, default=d.num_discriminator_layers,
                   help="layers of each discriminator")
    g.add_argument("--num_upsampling_layers", choices=("normal", "more", "most"), default=d.num_upsampling_layers,
                   help="generator depth: 5, 6 or 7 upsamplings (crop_size must be a multiple of 32, 64, 128)")
    g.add_argument("--spade_hidden", type=int, default=d.spade_hidden, help="width of SPADE's shared MLP")
    g.add_argument("--norm_G", choices=("batch", "instance"), default=d.norm_G,
                   help="parameter-free normalisation inside SPADE")

    g = p.add_argument_group("losses")
    g.add_argument("--lambda_kld", type=float, default=d.lambda_kld, help="weight of the KL divergence (VAE)")
    g.add_argument("--lambda_features", type=float, default=d.lambda_features,
                   help="weight of the discriminator feature matching loss")
    g.add_argument("--no_feature_loss", action="store_true", help="no feature matching loss")
    g.add_argument("--lambda_vgg", type=float, default=d.lambda_vgg, help="weight of the VGG19 perceptual loss")
    g.add_argument("--no_vgg_loss", action="store_true", help="no VGG19 perceptual loss")
    g.add_argument("--vgg_weights", help="VGG19 weights in torchvision's layout (features.0.weight, ...), "
                                         ".pth or .safetensors; needed unless --no_vgg_loss")
    g.add_argument("--lambda_l1", type=float, default=d.lambda_l1,
                   help="weight of an L1 loss between generated and real photo (0 = off, the paper's recipe)")

    g = p.add_argument_group("optimisation")
    g.add_argument("--lr", type=float, default=d.lr, help="initial learning rate (Adam)")
    g.add_argument("--beta1", type=float, default=d.beta1, help="Adam beta1 (used with --no_TTUR)")
    g.add_argument("--beta2", type=float, default=d.beta2, help="Adam beta2 (used with --no_TTUR)")
    g.add_argument("--no_TTUR", action="store_true",
                   help="same lr for G and D with --beta1/--beta2 (TTUR: G lr/2, D lr*2, betas (0, 0.9))")
    g.add_argument("--total_epochs", type=int, default=d.total_epochs, help="epochs to train")
    g.add_argument("--decay_epoch", type=int, default=d.decay_epoch,
                   help="epoch from which the learning rate decays linearly to zero")
    g.add_argument("--max_iters", type=int, help="stop after this many iterations in all (overrides epochs; "
                                                 "the decay then spans the same fraction of these iterations)")
    g.add_argument("--discriminator_warmup", type=int, default=d.discriminator_warmup, metavar="N",
                   help="train only the discriminator for the first N iterations (the generator and encoder stay "
                        "fixed): with --init_from and no discriminator beside it, a new one learns to judge "
                        "before its random verdicts reach the trained generator")

    g = p.add_argument_group("run")
    g.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:N or mps (torchrun: one GPU per "
                                                       "process)")
    g.add_argument("--seed", type=int, default=d.seed, help="seed of initialisation, data order and augmentation")
    g.add_argument("--amp", nargs="?", const="bf16", choices=AMP_MODES, default=d.amp,
                   help="mixed precision on CUDA (--amp alone: bf16)")
    g.add_argument("--deterministic", action="store_true", help="deterministic algorithms (slower; exact resume "
                                                                "on GPUs)")
    g.add_argument("--init_from", help="fine-tune from a Gauguin checkpoint folder or an official SPADE "
                                       "checkpoint (latest_net_G.pth or its folder); the architecture comes "
                                       "from it")
    g.add_argument("--name", help="model name written into the checkpoints (default: the checkpoint folder)")
    g.add_argument("--save_dtype", choices=("float32", "float16"), default=d.save_dtype,
                   help="precision of the exported model.safetensors (training state stays float32)")
    g.add_argument("--print_info_freq", type=int, default=d.print_info_freq,
                   help="iterations between printed loss lines and log rows")
    g.add_argument("--save_img_freq", type=int, default=d.save_img_freq,
                   help="iterations between sample grids (sketch | generated | real)")
    g.add_argument("--save_model_freq", type=int, default=d.save_model_freq, help="iterations between checkpoints")
    g.add_argument("--save_numbered", action="store_true", help="keep a numbered copy of every checkpoint "
                                                                 "besides latest/")
    g.add_argument("--checkpoint_dir", default=d.checkpoint_dir,
                   help="run folder: checkpoints go to DIR/latest (and DIR/iter_N); resumed from when present")
    g.add_argument("--log_dir", help="losses.csv and TensorBoard events (default: CHECKPOINT_DIR/logs)")
    g.add_argument("--results_dir", help="sample grids (default: CHECKPOINT_DIR/samples)")
    g.add_argument("--no_resume", dest="resume", action="store_false",
                   help="refuse to start when --checkpoint_dir already holds a checkpoint")
    return p


def parse_setting_weights(spec: str) -> dict[str, float]:
    """'snow=0.3,day=0.2' -> {"snow": 0.3, "day": 0.2}, checked against the procedural settings."""
    from train.procedural.scene import setting_weights

    weights = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:  # no '=' or not a number: reported as an invalid weight below
            weights[name.strip()] = float("nan")
    try:
        setting_weights(weights)
    except ValueError as e:
        raise TrainError(f"--procedural_settings {spec}: {e} (give NAME=WEIGHT pairs, e.g. snow=0.3)") from None
    return weights


def _positive(name: str, value: float, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero) or (isinstance(value, float) and math.isnan(value)):
        raise TrainError(f"--{name} must be {'non-negative' if allow_zero else 'positive'}; got {value}")


def validate(cfg: TrainConfig) -> None:
    """Checks that need no files: ranges, and sizes the architecture can train on."""
    for name in ("batch_size", "img_height", "img_width", "crop_size", "z_dim", "num_generator_filters",
                 "num_encoder_filters", "num_discriminator_filters", "num_discriminators",
                 "num_discriminator_layers", "spade_hidden", "total_epochs", "print_info_freq", "save_img_freq",
                 "save_model_freq", "dataset_size", "lr"):
        _positive(name, getattr(cfg, name))
    for name in ("lambda_kld", "lambda_features", "lambda_vgg", "lambda_l1", "decay_epoch", "num_workers",
                 "discriminator_warmup"):
        _positive(name, getattr(cfg, name), allow_zero=True)
    if cfg.max_iters is not None:
        _positive("max_iters", cfg.max_iters)
    if cfg.decay_epoch > cfg.total_epochs:
        raise TrainError(f"--decay_epoch {cfg.decay_epoch} is after --total_epochs {cfg.total_epochs}")
    if not 0 < cfg.prob_dataset <= 1:
        raise TrainError(f"--prob_dataset must lie in (0, 1]; got {cfg.prob_dataset}")
    if cfg.crop_size > min(cfg.img_height, cfg.img_width):
        raise TrainError(f"--crop_size {cfg.crop_size} is larger than the resized image "
                         f"{cfg.img_width}x{cfg.img_height} (--img_width x --img_height)")
    down = 2 ** {"normal": 5, "more": 6, "most": 7}[cfg.num_upsampling_layers]
    if cfg.crop_size % down:
        raise TrainError(f"--crop_size {cfg.crop_size} must be a multiple of {down} with --num_upsampling_layers "
                         f"{cfg.num_upsampling_layers}")
    if cfg.num_upsampling_layers == "most" and cfg.num_generator_filters < 2:
        raise TrainError("--num_upsampling_layers most needs --num_generator_filters of at least 2")
    if not 0 <= cfg.beta1 < 1 or not 0 <= cfg.beta2 < 1:
        raise TrainError("--beta1 and --beta2 must lie in [0, 1)")
    if cfg.dataset in ("folders", "ade20k", "coco", "cityscapes") and not cfg.image_dir:
        raise TrainError(f"--dataset {cfg.dataset} needs --image_dir"
                         + (" and --label_dir" if cfg.dataset == "folders" else " (the dataset's root folder)"))
    if cfg.dataset == "folders" and not cfg.label_dir:
        raise TrainError("--dataset folders needs --label_dir (the label maps paired with --image_dir)")
    if cfg.use_vgg and not cfg.vgg_weights:
        raise TrainError("the VGG19 perceptual loss needs weights: pass --vgg_weights PATH (torchvision's vgg19 "
                         "state dict, e.g. vgg19-dcbb9e9d.pth) or turn the loss off with --no_vgg_loss")
    if cfg.vgg_weights and cfg.use_vgg and not Path(cfg.vgg_weights).is_file():
        raise TrainError(f"--vgg_weights {cfg.vgg_weights}: file not found")
    if cfg.procedural_settings:
        parse_setting_weights(cfg.procedural_settings)
    if cfg.real_labels is not None and cfg.real_pairs is None:
        raise TrainError("--real_labels names the label maps of --real_pairs photos; give --real_pairs too")
    if cfg.real_pairs is not None:
        if cfg.dataset != "procedural":
            raise TrainError("--real_pairs mixes real photographs into --dataset procedural; for photos and "
                             "labels alone use --dataset folders")
        if not 0 <= cfg.real_share <= 1 or math.isnan(cfg.real_share):
            raise TrainError(f"--real_share must lie in [0, 1]; got {cfg.real_share}")
        for option, folder in (("real_pairs", cfg.real_pairs), ("real_labels", cfg.real_labels)):
            if folder is not None and not Path(folder).is_dir():
                raise TrainError(f"--{option} {folder}: no such folder")
    if cfg.init_from and not Path(cfg.init_from).exists():
        raise TrainError(f"--init_from {cfg.init_from}: not found")
    from spade.labels import builtin_label_set
    if builtin_label_set(cfg.label_set) is None and not Path(cfg.label_set).is_file():
        raise TrainError(f"--label_set {cfg.label_set}: no such class table (use 'ade20k', 'cocostuff', "
                         f"'cityscapes' or a CSV file)")
    wanted = DATASET_LABEL_SETS.get(cfg.dataset)
    if wanted and builtin_label_set(cfg.label_set) is not builtin_label_set(wanted):
        raise TrainError(f"--dataset {cfg.dataset} holds {wanted} labels; leave out --label_set {cfg.label_set}")


def parse_config(argv: list[str], command_line: str = "", prog: str = "gauguin train") -> TrainConfig:
    """Parse and validate; raises TrainError for values argparse cannot check."""
    args = build_parser(prog).parse_args(argv)
    values = vars(args)
    semantic = values.pop("semantic_label_path")
    if semantic:
        if values["label_set"] not in ("ade20k", semantic):
            raise TrainError("--semantic_label_path and --label_set name different class tables; give one")
        values["label_set"] = semantic
    if values["dataset"] in DATASET_LABEL_SETS and values["label_set"] == TrainConfig.label_set:
        values["label_set"] = DATASET_LABEL_SETS[values["dataset"]]
    names = {f.name for f in fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in values.items() if k in names}, command_line=command_line)
    validate(cfg)
    return cfg
