"""What browsers load from Katsuo: pages, static assets and the tracker script."""
