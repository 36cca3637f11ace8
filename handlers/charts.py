"""Small bar charts as PNG, drawn with Pillow. Labels are criterion ids (ASCII), so the built-in
font suffices and no font has to be installed."""

from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

COLOURS = ((200, 60, 60), (230, 170, 40))  # answered no, unsure


def bar_chart(rows: list[tuple[str, int, int]]) -> bytes:
    """Horizontal stacked bars: one row per label, two counts each (the caption says which
    colour is which, in the reader's language)."""
    height = 40 + 28 * max(1, len(rows))
    image = Image.new("RGB", (640, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    largest = max((a + b for _, a, b in rows), default=1) or 1
    scale = 480 / largest
    for i, (label, first, second) in enumerate(rows):
        top = 30 + 28 * i
        draw.text((10, top + 4), label, fill="black", font=font)
        x = 80
        for count, colour in ((first, COLOURS[0]), (second, COLOURS[1])):
            width = round(count * scale)
            if width:
                draw.rectangle((x, top, x + width, top + 18), fill=colour)
                x += width
        draw.text((x + 6, top + 4), f"{first}+{second}", fill="black", font=font)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
