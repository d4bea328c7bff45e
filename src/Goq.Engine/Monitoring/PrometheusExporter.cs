using System.Diagnostics.Metrics;
using System.Text;
using Prometheus;

namespace Goq.Monitoring;

/// <summary>
/// Writes the instruments of the meters named (System.Diagnostics.Metrics) in the Prometheus text format or OpenMetrics,
/// through prometheus-net: a <see cref="MeterListener"/> feeds each instrument into a prometheus-net metric of the
/// matching kind (counters stay counters, with <c>_total</c>; histograms keep the buckets their instrument advises).
/// prometheus-net's own adapter is not used: it exports every counter as a gauge. Observable instruments are read at
/// each scrape.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly MetricFactory _factory;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<Instrument, Family> _families = [];
    private readonly Lock _lock = new();
    private readonly HashSet<string> _meters;

    public PrometheusExporter(params string[] meterNames)
    {
        _meters = new HashSet<string>(meterNames, StringComparer.Ordinal);
        _factory = Metrics.WithCustomRegistry(_registry);
        _factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Contains(instrument.Meter.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Measured(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Measured(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Measured(i, v, tags));
        _listener.Start();
        _registry.AddBeforeCollectCallback(Observe);
    }

    public static string ContentType(bool openMetrics) =>
        openMetrics ? PrometheusConstants.OpenMetricsContentTypeWithVersionAndEncoding : PrometheusConstants.TextContentTypeWithVersionAndEncoding;

    /// <summary>Whether an Accept header asks for OpenMetrics (Prometheus asks for it first when it can take it).</summary>
    public static bool WantsOpenMetrics(string? accept) =>
        accept?.Contains(PrometheusConstants.OpenMetricsContentType, StringComparison.OrdinalIgnoreCase) == true;

    public Task WriteAsync(Stream to, bool openMetrics, CancellationToken cancel) =>
        _registry.CollectAndExportAsTextAsync(to, openMetrics ? ExpositionFormat.OpenMetricsText : ExpositionFormat.PrometheusText, cancel);

    /// <summary>The Prometheus name for an instrument, as OpenTelemetry's exporter makes it: '.' to '_', the unit's suffix, <c>_total</c> on counters.</summary>
    public static string PrometheusName(Instrument instrument)
    {
        var name = new StringBuilder(instrument.Name.Length + 16);
        foreach (var c in instrument.Name)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || c == ':' ? c : '_');
        }

        var suffix = instrument.Unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            "1" when !IsCounter(instrument) => "_ratio",
            _ => "",
        };
        if (suffix.Length > 0 && !name.ToString().EndsWith(suffix, StringComparison.Ordinal))
        {
            name.Append(suffix);
        }

        return IsCounter(instrument) ? name.Append("_total").ToString() : name.ToString();
    }

    private static bool IsCounter(Instrument instrument)
    {
        var type = instrument.GetType().GetGenericTypeDefinition();
        return type == typeof(Counter<>) || type == typeof(ObservableCounter<>);
    }

    private void Observe()
    {
        lock (_lock)
        {
            foreach (var family in _families.Values)
            {
                family.Seen.Clear();
            }

            _listener.RecordObservableInstruments();
            // A gauge's label set that was not observed this time is gone (a queue that has no jobs left).
            foreach (var family in _families.Values.Where(f => f.Metric is Gauge))
            {
                foreach (var labels in ((Gauge)family.Metric).GetAllLabelValues().ToList())
                {
                    if (labels.Length > 0 && !family.Seen.Contains(string.Join('\u0001', labels)))
                    {
                        ((Gauge)family.Metric).RemoveLabelled(labels);
                    }
                }
            }
        }
    }

    private void Measured<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var number = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        var names = new string[tags.Length];
        var values = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            (names[i], values[i]) = (tags[i].Key, tags[i].Value?.ToString() ?? "");
        }

        Array.Sort(names, values, StringComparer.Ordinal);
        lock (_lock)
        {
            var family = FamilyOf(instrument, names);
            family.Seen.Add(string.Join('\u0001', values));
            switch (family.Metric)
            {
                case Counter counter when instrument.IsObservable:
                    counter.WithLabels(values).IncTo(number);
                    break;
                case Counter counter:
                    counter.WithLabels(values).Inc(number);
                    break;
                case Gauge gauge when instrument.IsObservable:
                    gauge.WithLabels(values).Set(number);
                    break;
                case Gauge gauge:
                    gauge.WithLabels(values).Inc(number); // an up-down counter's measurement is a change
                    break;
                case Histogram histogram:
                    histogram.WithLabels(values).Observe(number);
                    break;
            }
        }
    }

    private Family FamilyOf(Instrument instrument, string[] labelNames)
    {
        if (_families.TryGetValue(instrument, out var family))
        {
            return family;
        }

        var name = PrometheusName(instrument);
        var help = instrument.Description ?? instrument.Name;
        var labels = labelNames.Select(n => n.Replace('.', '_')).ToArray();
        Collector metric = IsCounter(instrument) ? _factory.CreateCounter(name, help, labels)
            : instrument is Histogram<double> histogram ? _factory.CreateHistogram(name, help, labels,
                new HistogramConfiguration { Buckets = histogram.Advice?.HistogramBucketBoundaries?.ToArray() ?? Histogram.ExponentialBuckets(0.001, 4, 12) })
            : _factory.CreateGauge(name, help, labels);
        family = new Family(metric);
        _families[instrument] = family;
        return family;
    }

    public void Dispose() => _listener.Dispose();

    private sealed class Family(Collector metric)
    {
        public Collector Metric { get; } = metric;

        /// <summary>The label values observed in the current scrape.</summary>
        public HashSet<string> Seen { get; } = new(StringComparer.Ordinal);
    }
}
