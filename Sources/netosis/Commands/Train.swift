import ArgumentParser
import Cluster
import Neural
import Pipeline

extension OptimizerKind: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension TaskKind: ExpressibleByArgument {}

/// `netosis train`: data-parallel training with checkpoints and resume.
struct Train: DistributedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a patch classifier on patches.h5, data-parallel over the ranks, with checkpoints and exact resume.",
        discussion: """
        Every flag can also come from a YAML run configuration (--config FILE; keys as the flags with \
        '_' for '-', e.g. batch_size: 32); flags override the file, the file overrides the defaults \
        (presets in config/train/). Writes DIR/ckpt-<step>.h5 after every epoch (and every \
        --checkpoint-every steps), keeping the last --keep, DIR/best.h5 (lowest validation loss), \
        DIR/history.csv and at the end DIR/model.h5 (best.h5's weights alone, to share or screen \
        with), all atomically. By default a run continues from the newest intact checkpoint \
        in DIR at the exact step (--resume auto); a damaged one is reported and the one before it used. \
        Under mpirun each rank trains on --batch-size / ranks patches of every global batch and the \
        gradients are averaged (one all-reduce per step), as PyTorch DDP does; BatchNorm uses each \
        rank's batch statistics and its running statistics are averaged over ranks every step. \
        One line per epoch on rank 0: loss, accuracy, validation loss and accuracy, learning rate, \
        images/s, ETA. With --task count (the PL counter's stage 2) the data are the whole-image maps of \
        `netosis maps`, the loss is the mean absolute error against each image's counts, augmentation \
        is flips, and the history's per-output column is each count's validation error (val_mae_*).
        """)

    @Option(help: "Labelled patches (netosis.patches, from `netosis prepare`, or tiles from `netosis tiles`), or maps (netosis.maps) with --task count.")
    var data: String?

    @Option(help: "What to learn: classification of patches, or count (stage-1 maps → per-image counts) (default classification).")
    var task: TaskKind?

    @Option(help: "With --task count: more maps files (same geometry) whose every image is also training data, e.g. synthetic plates' maps; repeatable. Validation stays --data's.")
    var alsoTrain: [String] = []

    @Option(help: "Model name (config/models/NAME.yaml) or a .yaml path (default densenet121).")
    var model: String?

    @Option(help: "Output folder for checkpoints, best.h5 and history.csv (created if missing).")
    var out: String?

    @Option(help: "Epochs to train in total (a resumed run counts the ones already done); 1…100000 (default 50).")
    var epochs: Int?

    @Option(help: "Global batch: patches per step over all ranks; must divide by the rank count (default 32).")
    var batchSize: Int?

    @Option(help: "Optimizer (default sgd).")
    var optimizer: OptimizerKind?

    @Option(help: "Learning rate, 0…10 (default 0.001).")
    var lr: Double?

    @Option(help: "SGD momentum, 0…1 (default 0.9).")
    var momentum: Double?

    @Option(help: "Weight decay, 0…1 (default 0): L2 with sgd and adam, decoupled with adamw.")
    var weightDecay: Double?

    @Option(help: "Keras time decay of the learning rate: lr / (1 + decay · step), 0…1 (default 1e-7, the paper's).")
    var lrDecay: Double?

    @Option(help: "Learning-rate schedule: time-decay (--lr-decay, the paper's) or one-cycle (fastai's: --lr is the peak, reached after 25 % of the steps; momentum or Adam's β₁ cycles 0.95 → 0.85 → 0.95) (default time-decay).")
    var schedule: ScheduleKind?

    @Option(help: "Loss: cross-entropy or focal (γ = 2) for classification, mean absolute error for counts (default ce, or mae with --task count).")
    var loss: LossKind?

    @Option(help: "Class weights of the loss: auto (inverse frequency on the training split), none, or w0,w1,w2 (default none).")
    var classWeights: String?

    @Option(help: "Stop after this many epochs without a lower validation loss; 0 = never (default 10).")
    var patience: Int?

    @Option(help: "Seed of the initial weights, the shuffle and the augmentation (default 42).")
    var seed: UInt64?

    @Option(help: "auto (continue from the newest intact checkpoint in --out), never, or a checkpoint path (default auto).")
    var resume: String?

    @Option(name: .customLong("init"), help: "Start from the weights of this checkpoint (fine-tuning); a classifier of another class count is re-initialised.")
    var initFrom: String?

    @Option(help: "Layer-group learning rates (ResNets; fastai's slice(lr_min, lr)): the first group's peak; groups between geometric, the head at --lr.")
    var lrMin: Double?

    @Option(help: "Fine-tuning (ResNets; fastai's fine_tune): first train this many epochs with the body frozen (BatchNorm learning) on their own one-cycle, then all layers on a new one (needs --schedule one-cycle; default 0).")
    var freezeEpochs: Int?

    @Option(help: "Peak learning rate of the frozen epochs (default --lr; the celldeath recipe: 0.01).")
    var freezeLr: Double?

    @Option(help: "Colour tiles: brightness and contrast jitter (fastai's max_lighting), 0…1 (default 0).")
    var lighting: Double?

    @Flag(help: "Synchronised BatchNorm: batch statistics over the whole global batch (all ranks), so N ranks train as one would; costs two small all-reduces per BatchNorm and step.")
    var syncBN = false

    @Option(help: "Also checkpoint every N steps inside an epoch; 0 = at epoch ends only (default 0).")
    var checkpointEvery: Int?

    @Option(help: "Keep the newest K ckpt-<step>.h5 files, 1…1000 (default 3; best.h5 is always kept).")
    var keep: Int?

    @Option(help: "YAML run configuration with any of these flags as keys.")
    var config: String?

    func validate() throws {
        try requireFlag("--epochs", epochs, in: 1...100_000)
        try requireFlag("--batch-size", batchSize, in: 1...65536)
        try requireFlag("--lr", lr, in: 0...10)
        try requireFlag("--momentum", momentum, in: 0...1)
        try requireFlag("--weight-decay", weightDecay, in: 0...1)
        try requireFlag("--lr-decay", lrDecay, in: 0...1)
        try requireFlag("--patience", patience, in: 0...100_000)
        try requireFlag("--checkpoint-every", checkpointEvery, in: 0...10_000_000)
        try requireFlag("--keep", keep, in: 1...1000)
        if let classWeights, ClassWeighting(argument: classWeights) == nil {
            throw ValidationError("--class-weights must be auto, none or non-negative weights like 1,2,1 (got \(classWeights))")
        }
        if config == nil {
            if data == nil { throw ValidationError("Missing expected argument '--data <data>' (or give it in --config)") }
            if out == nil { throw ValidationError("Missing expected argument '--out <out>' (or give it in --config)") }
        }
    }

    func run(on world: Communicator) throws {
        var flags = TrainSettings()
        flags.data = data; flags.model = model; flags.out = out; flags.epochs = epochs; flags.batchSize = batchSize
        flags.optimizer = optimizer; flags.lr = lr; flags.momentum = momentum; flags.weightDecay = weightDecay
        flags.lrDecay = lrDecay; flags.schedule = schedule; flags.loss = loss; flags.classWeights = classWeights.flatMap(ClassWeighting.init(argument:))
        flags.patience = patience; flags.seed = seed; flags.resume = resume.map(ResumeMode.init(argument:))
        flags.initFrom = initFrom; flags.checkpointEvery = checkpointEvery; flags.keep = keep; flags.task = task
        if !alsoTrain.isEmpty { flags.alsoTrain = alsoTrain }
        if syncBN { flags.syncBN = true }
        flags.lrMin = lrMin; flags.freezeEpochs = freezeEpochs; flags.freezeLR = freezeLr; flags.lighting = lighting
        let console = Console("train", world: world)
        try TrainJob.run(TrainOptions(flags: flags, config: config), world: world,
                         log: console.log, warn: console.warn, progress: console.progress)
    }
}
