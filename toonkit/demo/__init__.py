"""The web demo: ``toonkit demo`` serves a page that cartoonises a selfie (needs the ``demo`` extra).

:mod:`toonkit.demo.core` turns an upload into a cartoon and needs no web framework;
:mod:`toonkit.demo.app` is the Gradio page around it.
"""
