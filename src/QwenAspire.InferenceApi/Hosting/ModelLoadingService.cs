using System.Diagnostics;
using Microsoft.Extensions.Options;
using QwenAspire.Engine;
using QwenAspire.Engine.Diagnostics;
using QwenAspire.Engine.Generation;
using QwenAspire.Engine.Model;
using QwenAspire.Engine.Model.Generator;
using QwenAspire.Engine.Sampling.Constraints;
using QwenAspire.InferenceApi.Options;
using QwenAspire.InferenceApi.Serving;
using QwenAspire.Text.Templating;
using QwenAspire.Text.Tokenization;

namespace QwenAspire.InferenceApi.Hosting;

/// <summary>
/// Loads the model after HTTP is up (so /health can say 503 meanwhile): base checkpoint, adapters,
/// tokenizer, chat template, then starts the engine loop and marks the host ready. With no model
/// configured it generates and serves the tiny demo model, loudly. A failed load stops the service.
/// </summary>
public sealed partial class ModelLoadingService(
    ModelRegistry host,
    IOptions<ModelOptions> modelOptions,
    IOptions<GenerationDefaultsOptions> generationOptions,
    IOptions<EngineOptions> engineOptions,
    IOptions<EngineDeviceOptions> deviceOptions,
    InferenceMetrics metrics,
    ILoggerFactory loggerFactory,
    IHostApplicationLifetime lifetime,
    IServiceProvider services) : BackgroundService
{
    public const string DemoModelName = "qwen3-demo";

    private readonly ILogger _logger = loggerFactory.CreateLogger<ModelLoadingService>();
    private TorchModelRunner? _runner;
    private InferenceEngine? _engine;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // let the web server start first
        try
        {
            if (services.GetService<ModelLoadGate>() is { } gate) await gate.WaitAsync(stoppingToken);
            var models = await Task.Run(() => Load(stoppingToken), stoppingToken);
            host.SetReady(models);
            LogReady(_logger, string.Join(", ", models.Names), models.MaxContextLength);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            host.SetFailed(ex.Message);
            // A broken or missing checkpoint is the user's to fix: its message names the file and the problem,
            // a trace would only bury it. Anything else is a bug and keeps its trace.
            if (IsExpectedLoadFailure(ex)) LogLoadFailedExpected(_logger, ex.Message);
            else LogLoadFailed(_logger, ex.Message, ex);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    internal static bool IsExpectedLoadFailure(Exception ex) => ex is ModelFormatException or IOException or UnauthorizedAccessException
        or InvalidDataException or System.Text.Json.JsonException or ArgumentException or NotSupportedException or FormatException;

    private ServedModels Load(CancellationToken ct)
    {
        var o = modelOptions.Value;
        var clock = Stopwatch.StartNew();
        string dir = string.IsNullOrWhiteSpace(o.Path) ? PrepareDemoModel(o) : Path.GetFullPath(o.Path);
        string baseName = !string.IsNullOrWhiteSpace(o.ServedModelName) ? o.ServedModelName
            : string.IsNullOrWhiteSpace(o.Path) ? DemoModelName : new DirectoryInfo(dir).Name;
        ct.ThrowIfCancellationRequested();

        var runtime = deviceOptions.Value;
        TorchRuntime.SetThreads(runtime.Threads);
        string device = TorchRuntime.ResolveDevice(runtime.Device).type.ToString().ToLowerInvariant(); // "auto" → cuda|cpu
        host.ReportProgress($"loading {dir}");
        LogLoading(_logger, dir, o.EngineDtype, runtime.Quantization.ToString().ToLowerInvariant(), device, o.Adapters.Count);
        _runner = TorchModelRunner.Load(dir, o.Adapters, o.EngineDtype, device, new ProgressLog(_logger, host),
            mergeSingleAdapter: o.MergeSingleAdapter, kvCache: KvCacheMemory.ToSettings(runtime),
            quantization: runtime.Quantization, quantizationCache: runtime.ResolveQuantizationCache(dir));
        LogKvCache(_logger, _runner.KvCacheSummary);
        if (_runner.LinearPolicyReport is { } linearPaths) LogLinearPaths(_logger, linearPaths);
        if (_runner.QuantizationCacheReport is { } cacheReport) LogQuantizationCache(_logger, cacheReport);
        ct.ThrowIfCancellationRequested();

        string tokenizerPath = Path.Combine(dir, "tokenizer.json");
        var tokenizer = File.Exists(tokenizerPath) ? Qwen3Tokenizer.Load(tokenizerPath) : Qwen3Tokenizer.LoadEmbedded();
        if (!File.Exists(tokenizerPath)) LogEmbeddedTokenizer(_logger, dir);
        var prompt = new Qwen3PromptProcessor(tokenizer, ChatTemplate.FromModelDirectory(dir));

        var eos = new HashSet<int>(_runner.GenerationConfig.EosTokenIds);
        if (tokenizer.TokenToId("<|im_end|>") is { } imEnd) eos.Add(imEnd);
        var engineSettings = engineOptions.Value;
        engineSettings.ModelName = baseName;
        _engine = new InferenceEngine(_runner, prompt.DecoderFactory, eos, engineSettings, metrics,
            loggerFactory.CreateLogger<InferenceEngine>());

        LogLoaded(_logger, clock.Elapsed.TotalSeconds);
        return new ServedModels
        {
            BaseName = baseName,
            BaseServed = _runner.ServesBaseModel,
            MergedAdapter = _runner.ServesBaseModel ? null : o.Adapters.Keys.Single(),
            Engine = _engine,
            Prompt = prompt,
            MaxContextLength = _runner.MaxContextLength,
            VocabSize = _runner.VocabSize,
            Defaults = SamplingDefaultsFrom(_runner.GenerationConfig, generationOptions.Value),
            ThinkingDefaults = new Dictionary<string, bool>(o.AdapterThinking, StringComparer.Ordinal),
            StructuredOutputs = new StructuredOutputs(() => TokenVocabulary.FromTokenizer(tokenizer, eos)),
        };
    }

    private string PrepareDemoModel(ModelOptions o)
    {
        string dir = Path.GetFullPath(o.DemoDirectory ?? Path.Combine(Path.GetTempPath(), "qwen-aspire-demo-model"));
        LogDemoModel(_logger, dir);
        if (!File.Exists(Path.Combine(dir, "model.safetensors")))
        {
            host.ReportProgress("generating the demo model");
            DemoModel.Write(dir);
        }
        return dir;
    }

    /// <summary>service_config.yaml's generation.* wins, then generation_config.json (do_sample false: greedy).</summary>
    internal static SamplingDefaults SamplingDefaultsFrom(GenerationConfig file, GenerationDefaultsOptions config) => new(
        Temperature: config.Temperature ?? (file.DoSample == false ? 0f : file.Temperature ?? 1f),
        TopP: config.TopP ?? file.TopP ?? 1f,
        TopK: config.TopK is { } k ? Math.Max(0, k) : file.TopK ?? 0,
        MinP: config.MinP ?? file.MinP ?? 0f,
        RepetitionPenalty: config.RepetitionPenalty ?? file.RepetitionPenalty ?? 1f);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The engine first (it drains its loop), then the model it was driving.
        if (_engine is not null) await _engine.DisposeAsync();
        _runner?.Dispose();
    }

    /// <summary>Logs loading progress every 10 % (stages are tensor names: logging each would flood the log).</summary>
    private sealed class ProgressLog(ILogger logger, ModelRegistry host) : IProgress<ModelLoadProgress>
    {
        private int _lastDecile = -1;

        public void Report(ModelLoadProgress value)
        {
            host.ReportProgress($"loading {value.Fraction:P0} ({value.Stage})", value.Fraction);
            int decile = (int)Math.Floor(value.Fraction * 10);
            if (decile == _lastDecile) return;
            _lastDecile = decile;
            LogProgress(logger, value.Fraction * 100, value.Elapsed.TotalSeconds, value.Stage);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "==================================================================\n" +
        "NO MODEL CONFIGURED (model.path / --model): serving the tiny DEMO model with RANDOM weights from {Directory}.\n" +
        "Its answers are noise. Point --model at a Hugging Face Qwen3 folder to serve a real model.\n" +
        "==================================================================")]
    private static partial void LogDemoModel(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quantization cache: {Report}.")]
    private static partial void LogQuantizationCache(ILogger logger, string report);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading model from {Directory} (dtype {Dtype}, quantization {Quantization}, device {Device}, {Adapters} adapter(s)).")]
    private static partial void LogLoading(ILogger logger, string directory, string dtype, string quantization, string device, int adapters);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model loading {Percent:0}% after {Seconds:0.0} s ({Stage}).")]
    private static partial void LogProgress(ILogger logger, double percent, double seconds, string stage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Directory} has no tokenizer.json: using the embedded Qwen3 tokenizer.")]
    private static partial void LogEmbeddedTokenizer(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "{KvCache}")]
    private static partial void LogKvCache(ILogger logger, string kvCache);

    [LoggerMessage(Level = LogLevel.Information, Message = "Linear layers: {Report}.")]
    private static partial void LogLinearPaths(ILogger logger, string report);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model loaded in {Seconds:0.0} s.")]
    private static partial void LogLoaded(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ready: serving {Models} (context {Context} tokens).")]
    private static partial void LogReady(ILogger logger, string models, int context);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Model loading failed, stopping: {Reason}")]
    private static partial void LogLoadFailedExpected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Model loading failed, stopping: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, string reason, Exception exception);
}
