using System.Runtime.InteropServices;
using Kit.Models;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Tests.Runtime;

public sealed unsafe class NativeAllocatorTests
{
    [DllImport("libc")] static extern void* malloc(nuint size);
    [DllImport("libc")] static extern void free(void* pointer);

    // glibc marks a chunk served by its own mapping with bit 1 (IS_MMAPPED) of the size word before the pointer.
    static bool Mapped(void* pointer) => (((nuint*)pointer)[-1] & 2) != 0;

    static bool OnGlibc() => OperatingSystem.IsLinux() && !File.Exists("/lib/ld-musl-x86_64.so.1");

    [Fact]
    public void Using_kit_leaves_the_hosts_dynamic_mmap_threshold_alone()
    {
        if (!OnGlibc()) return;
        // Load and run Kit, as a host would; the old module initializer fixed the threshold at 64 KiB here.
        using (var lm = LanguageModel.Load(TestPaths.Stories260K, new ModelLoadOptions { Device = "cpu" }))
        using (var ids = tensor(new long[] { 1, 2, 3 }).unsqueeze(0))
        using (var logits = lm.Model.Forward(ids)) { }

        // With glibc's dynamic threshold, freeing a 4 MiB mapped block raises the threshold to 4 MiB, so a
        // 1 MiB block then comes from the heap; with a fixed 64 KiB threshold it gets a mapping of its own.
        free(malloc(4 << 20));
        void* block = malloc(1 << 20);
        try { Assert.False(Mapped(block), "a 1 MiB block was mmapped: something fixed glibc's mmap threshold (mallopt)"); }
        finally { free(block); }
    }

    [Fact]
    public void Release_returns_freed_heap_pages_between_live_blocks()
    {
        if (!OnGlibc()) return;
        free(malloc(4 << 20));
        // 256 KiB blocks from the heap, every other one freed: their pages sit between live blocks, where only
        // malloc_trim hands them back.
        var blocks = Enumerable.Range(0, 64).Select(_ => (nint)malloc(256 << 10)).ToArray();
        try
        {
            foreach (var b in blocks) new Span<byte>((void*)b, 256 << 10).Fill(1);
            for (int i = 0; i < blocks.Length; i += 2) { free((void*)blocks[i]); blocks[i] = 0; }
            Assert.True(NativeAllocator.ReleaseFreedMemory());
            // The live blocks around the released pages keep their contents.
            for (int i = 1; i < blocks.Length; i += 2) Assert.Equal(1, ((byte*)blocks[i])[100]);
        }
        finally
        {
            foreach (var b in blocks) if (b != 0) free((void*)b);
        }
    }
}
