using System.Buffers.Binary;
using System.Text;

namespace Kit.Models.Tokenizers;

/// <summary>SentencePiece's piece types (<c>ModelProto.SentencePiece.Type</c>).</summary>
internal enum SentencePieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

/// <summary>One vocabulary entry of a SentencePiece model.</summary>
internal sealed record SentencePiece(string Piece, float Score, SentencePieceType Type);

/// <summary>
/// The parts of SentencePiece's <c>ModelProto</c> (sentencepiece_model.proto) Kit reads and writes:
/// the pieces, the trainer fields that change encoding, and the normalizer flags. Written by hand
/// because the format is a handful of protobuf fields and Kit needs no protobuf dependency for it.
/// </summary>
internal sealed record SentencePieceModelProto(
    IReadOnlyList<SentencePiece> Pieces,
    int ModelType,
    bool ByteFallback,
    int UnkId,
    int BosId,
    int EosId,
    int PadId,
    string NormalizerName,
    bool AddDummyPrefix,
    bool RemoveExtraWhitespaces,
    bool EscapeWhitespaces)
{
    /// <summary><c>TrainerSpec.ModelType</c> values.</summary>
    public const int Unigram = 1, Bpe = 2, Word = 3, Char = 4;

    /// <summary>The name SentencePiece gives a model type.</summary>
    public static string ModelTypeName(int type) => type switch
    {
        Unigram => "Unigram", Bpe => "BPE", Word => "Word", Char => "Char", _ => $"unknown ({type})",
    };

    /// <summary>Reads a serialized <c>ModelProto</c>; <paramref name="source"/> names the file in errors.</summary>
    public static SentencePieceModelProto Parse(byte[] data, string source)
    {
        try
        {
            var pieces = new List<SentencePiece>();
            int modelType = Unigram, unkId = 0, bosId = 1, eosId = 2, padId = -1;
            bool byteFallback = false, addDummyPrefix = true, removeExtra = true, escape = true;
            string normalizerName = "";
            var reader = new ProtoReader(data);
            while (reader.Next(out int field, out int wire))
            {
                switch (field)
                {
                    case 1: pieces.Add(ReadPiece(reader.Bytes())); break;
                    case 2:
                        var trainer = new ProtoReader(reader.Bytes());
                        while (trainer.Next(out int f, out int w))
                            switch (f)
                            {
                                case 3: modelType = (int)trainer.Varint(); break;
                                case 35: byteFallback = trainer.Varint() != 0; break;
                                case 40: unkId = (int)(long)trainer.Varint(); break;
                                case 41: bosId = (int)(long)trainer.Varint(); break;
                                case 42: eosId = (int)(long)trainer.Varint(); break;
                                case 43: padId = (int)(long)trainer.Varint(); break;
                                default: trainer.Skip(w); break;
                            }
                        break;
                    case 3:
                        var normalizer = new ProtoReader(reader.Bytes());
                        while (normalizer.Next(out int f, out int w))
                            switch (f)
                            {
                                case 1: normalizerName = Encoding.UTF8.GetString(normalizer.Bytes()); break;
                                case 3: addDummyPrefix = normalizer.Varint() != 0; break;
                                case 4: removeExtra = normalizer.Varint() != 0; break;
                                case 5: escape = normalizer.Varint() != 0; break;
                                default: normalizer.Skip(w); break;
                            }
                        break;
                    default: reader.Skip(wire); break;
                }
            }
            if (pieces.Count == 0) throw new InvalidDataException($"{source}: no pieces (field 1 of ModelProto) found");
            return new SentencePieceModelProto(pieces, modelType, byteFallback, unkId, bosId, eosId, padId,
                normalizerName, addDummyPrefix, removeExtra, escape);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            throw new InvalidDataException($"{source} is not a SentencePiece model (truncated or corrupt protobuf)", e);
        }
    }

    /// <summary>Serializes the model as a <c>ModelProto</c> that SentencePiece readers accept.</summary>
    public byte[] ToBytes()
    {
        var model = new ProtoWriter();
        foreach (var p in Pieces)
        {
            var piece = new ProtoWriter();
            piece.String(1, p.Piece);
            piece.Float(2, p.Score);
            piece.Varint(3, (ulong)p.Type);
            model.Message(1, piece);
        }
        var trainer = new ProtoWriter();
        trainer.Varint(3, (ulong)ModelType);
        trainer.Varint(35, ByteFallback ? 1UL : 0UL);
        trainer.Varint(40, (ulong)(long)UnkId);
        trainer.Varint(41, (ulong)(long)BosId);
        trainer.Varint(42, (ulong)(long)EosId);
        trainer.Varint(43, (ulong)(long)PadId);
        model.Message(2, trainer);
        var normalizer = new ProtoWriter();
        normalizer.String(1, NormalizerName);
        normalizer.Varint(3, AddDummyPrefix ? 1UL : 0UL);
        normalizer.Varint(4, RemoveExtraWhitespaces ? 1UL : 0UL);
        normalizer.Varint(5, EscapeWhitespaces ? 1UL : 0UL);
        model.Message(3, normalizer);
        return model.ToArray();
    }

    static SentencePiece ReadPiece(byte[] data)
    {
        string piece = "";
        float score = 0;
        var type = SentencePieceType.Normal;
        var reader = new ProtoReader(data);
        while (reader.Next(out int field, out int wire))
            switch (field)
            {
                case 1: piece = Encoding.UTF8.GetString(reader.Bytes()); break;
                case 2: score = reader.Fixed32(); break;
                case 3: type = (SentencePieceType)reader.Varint(); break;
                default: reader.Skip(wire); break;
            }
        return new SentencePiece(piece, score, type);
    }

    sealed class ProtoReader(byte[] data)
    {
        int _pos;

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (_pos >= data.Length) return false;
            ulong key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (shift > 63) throw new OverflowException("varint longer than 10 bytes");
                byte b = data[_pos++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
        }

        public byte[] Bytes()
        {
            int length = checked((int)Varint());
            var bytes = data.AsSpan(_pos, length).ToArray();
            _pos += length;
            return bytes;
        }

        public float Fixed32()
        {
            float value = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(_pos, 4));
            _pos += 4;
            return value;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _pos += 8; break;
                case 2:
                    // Read the length first: `_pos += Varint()` would add it to the position before the varint.
                    int length = checked((int)Varint());
                    _pos += length;
                    break;
                case 5: _pos += 4; break;
                default: throw new OverflowException($"unsupported protobuf wire type {wire}");
            }
            if (_pos > data.Length) throw new IndexOutOfRangeException();
        }
    }

    sealed class ProtoWriter
    {
        readonly MemoryStream _out = new();

        public void Varint(int field, ulong value) { Key(field, 0); Raw(value); }

        public void Float(int field, float value)
        {
            Key(field, 5);
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            _out.Write(bytes);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _out.ToArray();

        void Bytes(int field, byte[] bytes) { Key(field, 2); Raw((ulong)bytes.Length); _out.Write(bytes); }

        void Key(int field, int wire) => Raw(((ulong)field << 3) | (uint)wire);

        void Raw(ulong value)
        {
            while (value >= 0x80) { _out.WriteByte((byte)(value | 0x80)); value >>= 7; }
            _out.WriteByte((byte)value);
        }
    }
}
