namespace Kit.Notebook;

/// <summary>What a notebook runs on, as the first cell shows it.</summary>
/// <param name="KitAssembly">Full path of the Kit.dll in use; a notebook shows it to prove it runs the working tree's build.</param>
/// <param name="TorchSharpVersion">Version of the TorchSharp assembly in use.</param>
/// <param name="CudaAvailable">True when TorchSharp's CUDA backend is loaded and sees a GPU.</param>
/// <param name="Threads">Threads TorchSharp uses for CPU work.</param>
public sealed record NotebookEnvironment(string KitAssembly, string TorchSharpVersion, bool CudaAvailable, int Threads);
