using Kit.Planning;

namespace Kit.Tests.Planning;

/// <summary>
/// The config.json files in data/configs (provenance in its README). Llama 4 Scout is meta-llama/Llama-4-Scout-17B-16E's published config with the
/// Instruct model's 10M context and rope scaling (factor 16); Maverick is the Llama 4 Maverick 128E config as
/// TensorRT-LLM's tests copy it (128 experts, MoE on every second layer, no q/k norm, 1M context), with its 48
/// text and 34 vision layers restored and <c>moe_layers</c>/<c>no_rope_layers</c> written out as transformers
/// derives them. TinyLlama-1.1B-Chat-v1.0, Mistral-7B-v0.1 and Qwen2-0.5B are their public configs; tiny-llama
/// is a hand-made two-layer model small enough to count by hand.
/// </summary>
internal static class PlanningFixtures
{
    public static string FixturePath(string name) => Path.Combine(TestPaths.Data, "configs", name + ".json");

    public static ModelFootprint Load(string name) => ModelFootprint.Load(FixturePath(name));

    public const string Scout = "llama4-scout-17b-16e-instruct";
    public const string Maverick = "llama4-maverick-17b-128e-instruct";
    public const string TinyLlama = "tinyllama-1.1b-chat-v1.0";
    public const string Mistral = "mistral-7b-v0.1";
    public const string Qwen2 = "qwen2-0.5b";
    public const string Tiny = "tiny-llama";

    // Llama 4 Scout by hand (H 5120, 40 heads of 128, 8 KV heads, 16 experts of width 8192, 48 MoE layers, vocab 202048):
    //   embeddings and lm_head 202048·5120 = 1,034,485,760 each
    //   per layer: attention 2·5120·5120 + 2·1024·5120 = 62,914,560; experts 16·3·5120·8192 = 2,013,265,920;
    //   shared expert 3·5120·8192 = 125,829,120; router 16·5120 = 81,920; two norms 10,240 → 2,202,101,760
    //   text: 48 · 2,202,101,760 + 2 · 1,034,485,760 + 5120 = 107,769,861,120
    //   vision (hidden 1408, 34 layers, MLP 5632, 336/14 = 24² patches): patch 588·1408 = 827,904; class + positions
    //   578·1408 = 813,824; pre/post LayerNorms 5632; per layer 4·1408² + 2·1408·5632 + biases and norms
    //   (9·1408 + 5632) = 23,807,872 → 809,467,648; adapter 5632·4096 + 4096² = 39,845,888; projector 4096·5120
    //   = 20,971,520 → 871,932,416
    public const long ScoutText = 107_769_861_120;
    public const long ScoutVision = 871_932_416;
    public const long ScoutTotal = ScoutText + ScoutVision;
    // Quantizable Linear weights: attention 48·62,914,560 + experts 48·2,013,265,920 + shared 48·125,829,120.
    public const long ScoutQuantizable = 105_696_460_800;

    // Maverick: 24 MoE layers (1, 3, …, 47) with 128 experts: 62,914,560 + 128·125,829,120 + 125,829,120 + 128·5120
    // + 10,240 = 16,295,536,640; 24 dense layers with a 16384-wide MLP: 62,914,560 + 3·5120·16384 + 10,240 =
    // 314,583,040; plus embeddings, lm_head and the final norm 2,068,976,640 and the same vision tower.
    public const long MaverickText = 24 * 16_295_536_640L + 24 * 314_583_040L + 2_068_976_640L;
    public const long MaverickTotal = MaverickText + ScoutVision;

    // tiny-llama: H 256, 4 heads of 64, 2 KV heads, MLP 512, 2 layers, vocab 1000, untied.
    //   embeddings = lm_head = 256,000; per layer q 65,536, k 32,768, v 32,768, o 65,536, gate/up/down 3·131,072,
    //   norms 512 → 590,336; total 2·256,000 + 2·590,336 + 256 = 1,692,928, of which 1,179,648 quantizable.
    public const long TinyTotal = 1_692_928;
    public const long TinyQuantizable = 1_179_648;
}
