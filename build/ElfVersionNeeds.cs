// Marks one symbol-version requirement of an ELF64 shared library as weak.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so was linked against GCC 13's libstdc++ and so
// requires GLIBCXX_3.4.32. The only symbol behind that version is std::ios_base_library_init,
// a link-time marker that is never called. Debian 12 and Ubuntu 22.04 ship GCC 12's libstdc++,
// where the dynamic loader refuses the library. With VER_FLG_WEAK set on that one Vernaux entry
// of .gnu.version_r the loader only warns (when asked) and loads it.
//
// This file is compiled twice: into the MSBuild task in Directory.Build.targets (which patches the
// NuGet cache and build outputs) and into the tests (KIT_NO_MSBUILD_TASK), which check the result.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

/// <summary>Reads and edits the version-need entries (.gnu.version_r) of an ELF64 little-endian file.</summary>
public static class ElfVersionNeeds
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    /// <summary>One required symbol version: the library that provides it, its name, and its flags.</summary>
    // A plain struct: MSBuild's code task factory compiles this file against netstandard, without records.
    public readonly struct Requirement
    {
        /// <summary>Creates a requirement as read from the file.</summary>
        public Requirement(string file, string name, ushort flags, long flagsOffset)
        {
            File = file; Name = name; Flags = flags; FlagsOffset = flagsOffset;
        }

        /// <summary>The library that must provide the version (e.g. libstdc++.so.6).</summary>
        public string File { get; }
        /// <summary>The version name (e.g. GLIBCXX_3.4.32).</summary>
        public string Name { get; }
        /// <summary>The Vernaux flags.</summary>
        public ushort Flags { get; }
        /// <summary>Byte offset of the flags field in the file.</summary>
        public long FlagsOffset { get; }
        /// <summary>True when the loader tolerates the version being absent.</summary>
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    /// <summary>Lists every required symbol version of an ELF64 little-endian file.</summary>
    public static List<Requirement> Read(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF files are supported");

        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        var result = new List<Requirement>();
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            long strtab = (long)BitConverter.ToUInt64(elf, (int)(shoff + (long)link * shentsize + 0x18));

            long need = offset;
            while (true)
            {
                int count = BitConverter.ToUInt16(elf, (int)need + 2);
                string file = CString(elf, strtab + BitConverter.ToUInt32(elf, (int)need + 4));
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < count; a++)
                {
                    ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                    string name = CString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                    result.Add(new Requirement(file, name, flags, aux + 4));
                    uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(elf, (int)need + 12);
                if (next == 0) break;
                need += next;
            }
        }
        return result;
    }

    /// <summary>
    /// Sets VER_FLG_WEAK on the requirement named <paramref name="version"/>, in place.
    /// Returns false when the file has no such requirement or it is already weak.
    /// </summary>
    public static bool MarkWeak(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        bool changed = false;
        foreach (var r in Read(elf))
        {
            if (r.Name != version || r.IsWeak) continue;
            BitConverter.GetBytes((ushort)(r.Flags | VerFlagWeak)).CopyTo(elf, (int)r.FlagsOffset);
            changed = true;
        }
        if (!changed) return false;
        // Write beside and rename, so that a reader never sees a half-written library.
        string temp = path + ".kit-patch";
        File.WriteAllBytes(temp, elf);
        File.Replace(temp, path, null);
        return true;
    }

    /// <summary>True when a libstdc++ on the usual library paths already provides <paramref name="version"/>.</summary>
    public static bool SystemLibstdcxxProvides(string version)
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        foreach (var path in candidates)
            if (File.Exists(path) && Contains(File.ReadAllBytes(path), needle))
                return true;
        return false;
    }

    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    static string CString(byte[] bytes, long start)
    {
        int end = Array.IndexOf(bytes, (byte)0, (int)start);
        return Encoding.ASCII.GetString(bytes, (int)start, end - (int)start);
    }
}

#if !KIT_NO_MSBUILD_TASK
/// <summary>MSBuild task: marks GLIBCXX_3.4.32 weak in every given libLibTorchSharp.so when the system libstdc++ lacks it.</summary>
public sealed class MarkLibTorchSharpGlibcxxWeak : Microsoft.Build.Utilities.Task
{
    /// <summary>Library files to patch; missing files are skipped.</summary>
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <inheritdoc />
    public override bool Execute()
    {
        const string version = "GLIBCXX_3.4.32";
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) || ElfVersionNeeds.SystemLibstdcxxProvides(version)) return true;
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            if (ElfVersionNeeds.MarkWeak(path, version))
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, $"Kit: marked {version} weak in {path}");
            var left = ElfVersionNeeds.Read(File.ReadAllBytes(path)).Find(r => r.Name == version);
            if (left.Name != null && !left.IsWeak)
            {
                Log.LogError($"Kit: could not mark {version} weak in {path}");
                return false;
            }
        }
        return true;
    }
}
#endif
