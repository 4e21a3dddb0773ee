// An evaluation thread that fails while it starts.
throw new Error('cannot load the engine');
