"""Any folder of images: every format and size made square, corrupt files skipped and counted."""

import io

import numpy as np
import pytest
from PIL import Image

from gan_helpers import settings
from gan_helpers.data import CorruptDatasetError, DatasetNotFoundError, load_image_folder
from gan_helpers.data.folder import decode_crops, list_image_files, read_crops

RED, GREEN, BLUE, WHITE = (220, 20, 20), (20, 200, 40), (30, 40, 210), (255, 255, 255)


def _solid(size, colour, mode="RGB"):
    return Image.new(mode, size, colour)


def _save(picture, path, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path, **options)
    return path


def _three_stripes(width, height):
    """Red | green | blue vertical thirds: a centre crop of a wide picture is green."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 3] = RED
    pixels[:, width // 3 : 2 * width // 3] = GREEN
    pixels[:, 2 * width // 3 :] = BLUE
    return Image.fromarray(pixels)


@pytest.fixture()
def mixed_folder(tmp_path):
    """A folder with every kind of file a user's picture folder may hold."""
    root = tmp_path / "pictures"
    _save(_solid((300, 200), RED), root / "big_red.jpg", quality=95)
    _save(_solid((10, 7), GREEN), root / "tiny_green.png")
    _save(_solid((40, 90), 128, mode="L"), root / "grey.jpeg")
    transparent = Image.new("RGBA", (50, 50), (0, 0, 0, 0))  # fully transparent black
    _save(transparent, root / "sub" / "transparent.png")
    palette = _solid((33, 33), BLUE).convert("P", palette=Image.Palette.ADAPTIVE)
    _save(palette, root / "sub" / "deeper" / "palette.gif")
    sixteen_bit = Image.fromarray(np.full((20, 20), 65535, np.uint16))
    _save(sixteen_bit, root / "sixteen_bit.png")
    _save(_three_stripes(90, 30), root / "stripes.webp", lossless=True)
    _save(_solid((64, 64), RED), root / "UPPER.PNG")
    # the unusable and the irrelevant
    good_jpeg = io.BytesIO()
    _solid((200, 200), BLUE).save(good_jpeg, format="JPEG")
    (root / "truncated.jpg").write_bytes(good_jpeg.getvalue()[: len(good_jpeg.getvalue()) // 3])
    (root / "not_really.png").write_text("this is text, not a PNG")
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.txt").write_text("not an image, ignored")
    _save(_solid((20, 20), RED), root / ".hidden.png")
    _save(_solid((20, 20), RED), root / ".thumbnails" / "thumb.png")
    return root


def decode_image(path, image_size):
    """The central square of one picture, as load_image_folder prepares it."""
    crops, too_small = decode_crops(path, image_size)
    assert len(crops) == 1 and too_small == 0
    return crops[0]


def _centre(image):
    h, w = image.shape[:2]
    return image[h // 2 - 2 : h // 2 + 2, w // 2 - 2 : w // 2 + 2].reshape(-1, image.shape[-1]).mean(axis=0)


def test_every_format_becomes_a_square_rgb_image_and_bad_files_are_counted(mixed_folder, capsys):
    images, report = load_image_folder(mixed_folder, image_size=32)
    assert images.shape == (8, 32, 32, 3) and images.dtype == np.uint8
    assert report.files == 11 and report.images == 8
    assert report.skipped == {"corrupt": 2, "empty": 1}
    assert sorted(report.skipped_examples) == ["empty.jpg", "not_really.png", "truncated.jpg"]
    assert report.other_files == 1
    printed = capsys.readouterr().out
    assert "8 images" in printed and "skipped 3 unreadable files" in printed and "truncated.jpg" in printed


def test_each_picture_keeps_its_colour(mixed_folder):
    images, _ = load_image_folder(mixed_folder, image_size=32, verbose=False)
    files, _ = list_image_files(mixed_folder)
    usable = [p.relative_to(mixed_folder).as_posix() for p in files
              if p.name not in ("truncated.jpg", "not_really.png", "empty.jpg")]
    by_name = dict(zip(usable, images))
    np.testing.assert_allclose(_centre(by_name["big_red.jpg"]), RED, atol=12)
    np.testing.assert_allclose(_centre(by_name["tiny_green.png"]), GREEN, atol=3)  # enlarged 10x7 -> 32x32
    np.testing.assert_allclose(_centre(by_name["grey.jpeg"]), (128, 128, 128), atol=3)  # grey -> 3 equal channels
    np.testing.assert_array_equal(by_name["sub/transparent.png"], 255)  # transparency -> white, not black
    np.testing.assert_allclose(_centre(by_name["sub/deeper/palette.gif"]), BLUE, atol=8)
    np.testing.assert_array_equal(by_name["sixteen_bit.png"], 255)  # 16-bit white stays white
    np.testing.assert_allclose(_centre(by_name["UPPER.PNG"]), RED, atol=1)


def test_a_wide_picture_is_cropped_to_its_centre_not_squashed(mixed_folder):
    striped = decode_image(mixed_folder / "stripes.webp", 30)
    # the 90x30 picture's central 30x30 square is its green third
    np.testing.assert_allclose(striped[:, 3:-3].reshape(-1, 3).mean(axis=0), GREEN, atol=6)


def test_a_camera_orientation_tag_turns_the_picture_upright(tmp_path):
    # Stored 40 wide x 20 high, left half red, right half blue; EXIF orientation 6 says
    # "rotate 90 degrees clockwise to display", so upright it is 20 wide x 40 high, red on top.
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20], pixels[:, 20:] = RED, BLUE
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(Image.fromarray(pixels), tmp_path / "phone.jpg", exif=exif, quality=95)
    upright = decode_image(path, 16).astype(int)
    assert upright[:4].mean(axis=(0, 1))[0] > 150 and upright[-4:].mean(axis=(0, 1))[2] > 150


def test_a_boxed_crop_of_a_rotated_photo_is_turned_upright(tmp_path):
    # Stored 80 wide x 40 high: the left square is red above green, the right one blue. EXIF
    # orientation 6 (turn 90 degrees clockwise to display) puts red on the right, green on the left.
    pixels = np.zeros((40, 80, 3), np.uint8)
    pixels[:20, :40], pixels[20:, :40], pixels[:, 40:] = RED, GREEN, BLUE
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(Image.fromarray(pixels), tmp_path / "phone.png", exif=exif)
    crops, too_small = decode_crops(path, 16, boxes=[(1, 1, 40, 40), (50, 10, 52, 12)], min_side=8)
    assert len(crops) == 1 and too_small == 1
    left, right = crops[0][:, :6].reshape(-1, 3).mean(axis=0), crops[0][:, -6:].reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(left, GREEN, atol=8)
    np.testing.assert_allclose(right, RED, atol=8)


def test_a_large_jpeg_decoded_at_reduced_size_keeps_its_square_inside_the_picture(tmp_path):
    # 1001 x 1000 decodes at 1/8 as 126 x 125: the square must be scaled per axis to fit.
    path = _save(_solid((1001, 1000), RED), tmp_path / "big.jpg", quality=95)
    np.testing.assert_allclose(decode_image(path, 16).reshape(-1, 3).mean(axis=0), RED, atol=3)
    crops, _ = decode_crops(path, 16, boxes=[(1, 1, 1001, 1000)])
    np.testing.assert_allclose(crops[0].reshape(-1, 3).mean(axis=0), RED, atol=3)


def test_a_file_that_cannot_be_read_or_decoded_is_reported_not_raised(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "cut.gif").write_bytes(b"GIF89a and then nothing")
    _save(_solid((12, 10), BLUE), tmp_path / "blue.png")
    assert read_crops(tmp_path / "empty.png", 8)[1] == "empty" and read_crops(tmp_path / "gone.png", 8)[1] == "corrupt"
    assert read_crops(tmp_path / "cut.gif", 8)[1] == "corrupt"
    crops, problem, too_small = read_crops(tmp_path / "blue.png", 8)
    assert problem is None and too_small == 0 and crops[0].shape == (8, 8, 3)


def test_limit_keeps_the_first_images(mixed_folder):
    images, report = load_image_folder(mixed_folder, image_size=8, limit=3, verbose=False)
    assert images.shape == (3, 8, 8, 3) and report.images == 3


def test_quick_mode_caps_the_number_of_images(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "QUICK_MAX_EXAMPLES", 2)
    for index in range(4):
        _save(_solid((8, 8), RED), tmp_path / f"{index}.png")
    images, _ = load_image_folder(tmp_path, image_size=8, verbose=False)
    assert len(images) == 2


@pytest.mark.parametrize("make, message", [
    (lambda root: None, "No folder at"),
    (lambda root: root.mkdir(), "it is empty"),
    (lambda root: (root.mkdir(), (root / "a.txt").write_text("x")), "only 1 other file"),
    (lambda root: root.write_text("a file"), "is a file, not a folder"),
])
def test_no_images_is_a_clear_error(tmp_path, make, message):
    root = tmp_path / "nothing"
    make(root)
    with pytest.raises(DatasetNotFoundError, match=message):
        load_image_folder(root)


def test_only_unreadable_files_is_a_clear_error(tmp_path):
    (tmp_path / "a.jpg").write_text("not a jpeg")
    (tmp_path / "b.png").write_bytes(b"")
    with pytest.raises(CorruptDatasetError, match=r"None of the 2 image files .*\(1 corrupt, 1 empty"):
        load_image_folder(tmp_path)


def test_image_size_must_be_a_positive_whole_number(tmp_path):
    with pytest.raises(ValueError, match="image_size"):
        load_image_folder(tmp_path, image_size=0)
