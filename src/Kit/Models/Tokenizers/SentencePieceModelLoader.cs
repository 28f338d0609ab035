namespace Kit.Models.Tokenizers;

/// <summary>Loads a SentencePiece <c>tokenizer.model</c> (BPE only).</summary>
internal static class SentencePieceModelLoader
{
    public static KitTokenizer Load(string path, TokenizerFolderConfig config)
    {
        var bytes = File.ReadAllBytes(path);
        var model = SentencePieceModelProto.Parse(bytes, path);
        if (model.ModelType != SentencePieceModelProto.Bpe)
            throw new NotSupportedException(
                $"{path}: SentencePiece model_type {SentencePieceModelProto.ModelTypeName(model.ModelType)} is not supported; Kit reads BPE models");
        if (model.NormalizerName is not ("" or "identity"))
            throw new NotSupportedException(
                $"{path}: normalizer_spec.name '{model.NormalizerName}' is not supported; Kit reads models with the identity normalizer");

        var pieces = model.Pieces;
        var index = new Dictionary<string, int>(pieces.Count);
        for (int i = 0; i < pieces.Count; i++) index.TryAdd(pieces[i].Piece, i);
        // HF's slow LlamaTokenizer matches control and unknown pieces in text as special tokens.
        var added = pieces.Select((p, id) => (p, id))
            .Where(x => x.p.Type is SentencePieceType.Control or SentencePieceType.Unknown or SentencePieceType.UserDefined)
            .Select(x => new AddedToken(x.id, x.p.Piece, x.p.Type != SentencePieceType.UserDefined))
            .ToList();
        string? PieceAt(int id) => id >= 0 && id < pieces.Count ? pieces[id].Piece : null;

        var specials = SpecialTokenResolver.Resolve(config, added,
            token => index.TryGetValue(token, out int id) ? id : null,
            PieceAt,
            defaultPrefix: model.BosId >= 0 && model.BosId < pieces.Count ? [model.BosId] : [],
            defaultSuffix: [],
            defaults: (PieceAt(model.BosId), PieceAt(model.EosId), PieceAt(model.UnkId)),
            folder: Path.GetDirectoryName(path) ?? ".");
        return new SentencePieceBpeTokenizer(bytes, model, rules: null, stripLeadingSpace: model.AddDummyPrefix, specials);
    }
}
