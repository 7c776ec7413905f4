"""Reading FDL documents: loading text with positions and reporting problems with locations."""
