using Kit.Models;

namespace Kit.Tests.Models;

/// <summary>
/// An independent float64 Llama-family forward pass on plain arrays, written from the Hugging Face
/// modelling code (RMSNorm, rotate_half RoPE with Llama 3 scaling, GQA, SwiGLU), used as the reference
/// the TorchSharp model must match. Weights are [out, in] row-major like the checkpoints.
/// </summary>
internal sealed class ReferenceTransformer
{
    readonly ModelConfig c;
    readonly IReadOnlyDictionary<string, double[]> w;

    public ReferenceTransformer(ModelConfig config, IReadOnlyDictionary<string, double[]> weights) => (c, w) = (config, weights);

    /// <summary>Logits [T][vocab] for one unpadded sequence.</summary>
    public double[][] Forward(IReadOnlyList<int> ids)
    {
        int t = ids.Count, d = c.HiddenSize;
        var h = new double[t][];
        var embed = w["model.embed_tokens.weight"];
        for (int i = 0; i < t; i++) h[i] = embed.AsSpan(ids[i] * d, d).ToArray();

        for (int l = 0; l < c.NumHiddenLayers; l++)
        {
            string p = $"model.layers.{l}.";
            var x = h.Select(r => RmsNorm(r, w[p + "input_layernorm.weight"])).ToArray();
            var attn = Attention(x, p + "self_attn.");
            for (int i = 0; i < t; i++) h[i] = Add(h[i], attn[i]);
            var y = h.Select(r => RmsNorm(r, w[p + "post_attention_layernorm.weight"])).ToArray();
            for (int i = 0; i < t; i++)
            {
                var gate = Linear(y[i], p + "mlp.gate_proj", c.IntermediateSize);
                var up = Linear(y[i], p + "mlp.up_proj", c.IntermediateSize);
                var act = gate.Select((g, j) => g / (1 + Math.Exp(-g)) * up[j]).ToArray();
                h[i] = Add(h[i], Linear(act, p + "mlp.down_proj", d));
            }
        }
        string head = c.TieWordEmbeddings || !w.ContainsKey("lm_head.weight") ? "model.embed_tokens" : "lm_head";
        return h.Select(r => Linear(RmsNorm(r, w["model.norm.weight"]), head, c.VocabSize)).ToArray();
    }

    double[][] Attention(double[][] x, string p)
    {
        int t = x.Length, hd = c.HeadDim, nh = c.NumAttentionHeads, nkv = c.NumKeyValueHeads;
        var q = x.Select(r => Linear(r, p + "q_proj", nh * hd)).ToArray();
        var k = x.Select(r => Linear(r, p + "k_proj", nkv * hd)).ToArray();
        var v = x.Select(r => Linear(r, p + "v_proj", nkv * hd)).ToArray();
        var invFreq = InverseFrequencies();
        for (int i = 0; i < t; i++)
        {
            Rope(q[i], nh, i, invFreq);
            Rope(k[i], nkv, i, invFreq);
        }
        var outp = new double[t][];
        for (int i = 0; i < t; i++)
        {
            outp[i] = new double[nh * hd];
            for (int head = 0; head < nh; head++)
            {
                int kvh = head / (nh / nkv);
                var scores = new double[i + 1];
                for (int j = 0; j <= i; j++)
                {
                    double s = 0;
                    for (int e = 0; e < hd; e++) s += q[i][head * hd + e] * k[j][kvh * hd + e];
                    scores[j] = c.SlidingWindow is int win && i - j >= win ? double.NegativeInfinity : s / Math.Sqrt(hd);
                }
                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int j = 0; j <= i; j++)
                {
                    double pr = Math.Exp(scores[j] - max) / sum;
                    for (int e = 0; e < hd; e++) outp[i][head * hd + e] += pr * v[j][kvh * hd + e];
                }
            }
        }
        return outp.Select(r => Linear(r, p + "o_proj", c.HiddenSize)).ToArray();
    }

    // transformers' default and Llama 3 rope initialisation, written out with its own where() logic.
    double[] InverseFrequencies()
    {
        int half = c.HeadDim / 2;
        var f = Enumerable.Range(0, half).Select(i => 1.0 / Math.Pow(c.RopeTheta, 2.0 * i / c.HeadDim)).ToArray();
        if (c.RopeScaling is { Type: "linear" } lin) return f.Select(x => x / lin.Factor).ToArray();
        if (c.RopeScaling is { Type: "llama3" } s)
        {
            double lowWl = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor, highWl = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
            return f.Select(x =>
            {
                double wl = 2 * Math.PI / x;
                double scaled = wl > lowWl ? x / s.Factor : x;
                double smooth = (s.OriginalMaxPositionEmbeddings / wl - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                bool medium = !(wl < highWl) && !(wl > lowWl);
                return medium ? (1 - smooth) * scaled / s.Factor + smooth * scaled : scaled;
            }).ToArray();
        }
        return f;
    }

    void Rope(double[] x, int heads, int pos, double[] invFreq)
    {
        int hd = c.HeadDim, half = hd / 2;
        for (int head = 0; head < heads; head++)
        {
            int o = head * hd;
            for (int j = 0; j < half; j++)
            {
                double a = pos * invFreq[j], cos = Math.Cos(a), sin = Math.Sin(a);
                double x1 = x[o + j], x2 = x[o + j + half];
                x[o + j] = x1 * cos - x2 * sin;
                x[o + j + half] = x2 * cos + x1 * sin;
            }
        }
    }

    double[] RmsNorm(double[] x, double[] g)
    {
        double ms = x.Sum(v => v * v) / x.Length;
        double r = 1 / Math.Sqrt(ms + c.RmsNormEps);
        return x.Select((v, i) => v * r * g[i]).ToArray();
    }

    double[] Linear(double[] x, string name, int outFeatures)
    {
        var m = w[name + ".weight"];
        w.TryGetValue(name + ".bias", out var bias);
        var y = new double[outFeatures];
        for (int o = 0; o < outFeatures; o++)
        {
            double s = bias?[o] ?? 0;
            for (int i = 0; i < x.Length; i++) s += m[o * x.Length + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();
}
