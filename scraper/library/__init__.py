"""`scraper scan`: document the model files people keep. walk (find them), hashing (SHA-256,
several at once), safetensors and gguf (header metadata without the tensors), lookup (by hash,
through a source that can), beside (the files written next to each model), metacard (a card
from header metadata), scan (the run)."""
