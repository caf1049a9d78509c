"""Pure drawing helpers: what a panel or a line shows, as Rich text or Textual `Content`."""
