"""The dogs loader on a small Stanford Dogs set built here, in every accepted layout."""

import io
import json
import os
import tarfile
import threading
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from gan_helpers.data import (
    CorruptDatasetError,
    DatasetNotFoundError,
    augment_images,
    dogs_dataset,
    load_dogs,
    load_dogs_or_standin,
    make_standin_dogs,
)

GREY = (128, 128, 128)
RED, GREEN, BLUE = (220, 30, 30), (30, 200, 30), (30, 30, 220)
WHITE, YELLOW, MAGENTA = (250, 250, 250), (240, 220, 20), (200, 40, 200)
CHIHUAHUA, RETRIEVER = "n02085620-Chihuahua", "n02099601-golden_retriever"


def _photo(size, background, squares, mode="RGB", fmt="JPEG"):
    """Encoded bytes of a photo with coloured squares (left, top, side, colour)."""
    image = Image.new("RGB", size, background)
    for left, top, side, colour in squares:
        image.paste(colour, (left, top, left + side, top + side))
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, format=fmt, quality=95)
    return buffer.getvalue()


def _voc(boxes):
    """A Stanford-style Pascal-VOC annotation (1-based inclusive pixel boxes)."""
    objects = "".join(
        f"<object><name>dog</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>"
        f"<bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        for x0, y0, x1, y1 in boxes
    )
    return f"<annotation><folder>x</folder><filename>%s</filename><segment>0</segment>{objects}</annotation>".encode()


def _box(left, top, side):
    return (left + 1, top + 1, left + side, top + side)


# stem -> (breed, file bytes, boxes or None for "no annotation file")
PHOTOS = {
    "n02085620_1": (CHIHUAHUA, _photo((200, 150), GREY, [(40, 30, 100, RED)]), [_box(40, 30, 100)]),
    "n02085620_2": (
        CHIHUAHUA,
        _photo((240, 120), GREY, [(10, 10, 100, GREEN), (130, 10, 100, BLUE)]),
        [_box(10, 10, 100), _box(130, 10, 100)],
    ),
    "n02085620_3": (CHIHUAHUA, _photo((120, 120), (0, 0, 0), [(20, 20, 80, WHITE)], mode="L"), [_box(20, 20, 80)]),
    "n02099601_4": (RETRIEVER, _photo((90, 90), GREY, [(5, 5, 80, YELLOW)], fmt="PNG"), [_box(5, 5, 80)]),
    "n02099601_5": (RETRIEVER, b"\xff\xd8\xff\xe0 this is not a photo" + bytes(range(256)) * 4, [_box(1, 1, 50)]),
    "n02099601_6": (RETRIEVER, _photo((10, 8), RED, []), [_box(0, 0, 8)]),
    "n02099601_7": (RETRIEVER, b"", [_box(0, 0, 40)]),
    "n02099601_8": (RETRIEVER, _photo((100, 80), MAGENTA, []), None),
}
# The crops, in the order of the sorted file names, and what is skipped.
EXPECTED_COLOURS = [RED, GREEN, BLUE, WHITE, YELLOW, MAGENTA]
EXPECTED_SKIPPED = {"corrupt": 1, "empty": 1, "tiny": 1}


def _stanford_files():
    """(path inside the layout, bytes) of the Stanford Images/ and Annotation/ trees."""
    images, annotations = [], []
    for stem, (breed, data, boxes) in PHOTOS.items():
        images.append((f"Images/{breed}/{stem}.jpg", data))
        if boxes is not None:
            annotations.append((f"Annotation/{breed}/{stem}", _voc(boxes)))
    return images, annotations


def _write_folder(root, files):
    for name, data in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _kaggle_images(images):
    return [("all-dogs/" + name.rsplit("/", 1)[-1], data) for name, data in images]


def make_layout(root, layout):
    """Write the test set into ``root`` in one of the accepted layouts; returns root."""
    images, annotations = _stanford_files()
    root.mkdir(parents=True, exist_ok=True)
    if layout == "stanford":
        _write_folder(root, images + annotations)
    elif layout == "kaggle":
        _write_folder(root, _kaggle_images(images) + annotations)
    elif layout == "plain":
        _write_folder(root, [(name.rsplit("/", 1)[-1], data) for name, data in images])
    return root


def _centre_colour(crop):
    return crop[16:48, 16:48].reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("layout, given", [("stanford", ""), ("kaggle", ""), ("stanford", "Images"),
                                           ("kaggle", "all-dogs")])
def test_every_layout_with_boxes_gives_one_crop_per_dog(tmp_path, layout, given):
    root = make_layout(tmp_path / "dogs", layout)
    images, report = load_dogs(root / given, cache_dir=tmp_path / "cache", verbose=False)

    photos = root / ("Images" if layout == "stanford" else "all-dogs")
    assert report.source == f"{photos} with boxes from {root / 'Annotation'}"
    assert images.shape == (6, 64, 64, 3) and images.dtype == np.uint8
    assert report.crops == 6 and report.photos == 8
    assert {k: v for k, v in report.skipped.items() if v} == EXPECTED_SKIPPED
    assert report.no_box == 1 and not report.from_cache and not report.standin
    for crop, colour in zip(images, EXPECTED_COLOURS):
        np.testing.assert_allclose(_centre_colour(crop), colour, atol=12)
    # the boxed red square fills its crop: grey background does not leak in
    assert np.abs(images[0].reshape(-1, 3).mean(axis=0) - RED).max() < 20
    # the greyscale photo comes out RGB with equal channels
    assert np.abs(images[3].astype(int) - images[3][..., :1]).max() <= 2


def test_plain_folder_uses_whole_photos_center_cropped(tmp_path):
    root = make_layout(tmp_path / "photos", "plain")
    images, report = load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)

    assert images.shape == (5, 64, 64, 3)
    assert report.source == f"{root} (no boxes: whole photos)" and report.no_box == report.photos == 8
    assert {k: v for k, v in report.skipped.items() if v} == EXPECTED_SKIPPED
    # photo 1: the 150x150 center square of a 200x150 photo; the red square (x 40..140) is centered
    np.testing.assert_allclose(_centre_colour(images[0]), RED, atol=12)
    np.testing.assert_allclose(images[4].reshape(-1, 3).mean(axis=0), MAGENTA, atol=6)


def test_plain_folder_photos_are_read_like_any_folder_of_images(tmp_path):
    # a transparent PNG is flattened onto white; a photo stored sideways is turned upright
    root = tmp_path / "photos"
    root.mkdir()
    Image.new("RGBA", (80, 80), (0, 0, 0, 0)).save(root / "a_transparent.png")
    sideways = Image.new("RGB", (80, 80), RED)
    sideways.paste(BLUE, (40, 0, 80, 80))  # stored: red left, blue right; upright: red top, blue bottom
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways.save(root / "b_phone.jpg", exif=exif, quality=95)
    images, _ = load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)
    assert images[0].min() >= 250
    np.testing.assert_allclose(images[1][:24].reshape(-1, 3).mean(axis=0), RED, atol=12)
    np.testing.assert_allclose(images[1][-24:].reshape(-1, 3).mean(axis=0), BLUE, atol=12)


def test_second_load_reads_the_cache_without_decoding(tmp_path):
    root = make_layout(tmp_path / "dogs", "stanford")
    first = load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)
    second = load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)
    assert not first.report.from_cache and second.report.from_cache
    np.testing.assert_array_equal(first.images, second.images)
    assert second.report.skipped == first.report.skipped

    # What comes back is the cache file itself: change it, and the next load returns the change.
    cache_file = second.report.cache_file
    del first, second
    np.save(cache_file, np.full((6, 64, 64, 3), 7, np.uint8))
    third = load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)
    assert third.report.from_cache and (third.images == 7).all()


def test_cache_is_rebuilt_when_the_photos_or_settings_change(tmp_path):
    root = make_layout(tmp_path / "dogs", "stanford")
    cache = tmp_path / "cache"
    load_dogs(root, cache_dir=cache, verbose=False)
    extra = root / "Images" / CHIHUAHUA / "n02085620_9.jpg"
    extra.write_bytes(_photo((64, 64), BLUE, []))
    grown = load_dogs(root, cache_dir=cache, verbose=False)
    assert not grown.report.from_cache and grown.report.crops == 7
    smaller = load_dogs(root, cache_dir=cache, image_size=32, verbose=False)
    assert not smaller.report.from_cache and smaller.images.shape == (7, 32, 32, 3)
    assert str(smaller.report).startswith("7 dog images, 32x32, from 9 photos")
    again = load_dogs(root, cache_dir=cache, image_size=32, verbose=False)
    assert again.report.from_cache and "32x32" in str(again.report)
    limited = load_dogs(root, cache_dir=cache, limit=2, verbose=False)
    assert limited.images.shape == (2, 64, 64, 3) and limited.report.photos == 2


def test_a_damaged_cache_is_rebuilt_not_trusted(tmp_path):
    root = make_layout(tmp_path / "dogs", "stanford")
    first = load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)
    cache_file = first.report.cache_file
    expected = np.array(first.images)
    del first
    with open(cache_file, "r+b") as f:
        f.truncate(1000)
    again = load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)
    assert not again.report.from_cache
    np.testing.assert_array_equal(again.images, expected)


def test_report_is_saved_next_to_the_cache_and_prints_the_counts(tmp_path, capsys):
    root = make_layout(tmp_path / "dogs", "kaggle")
    images, report = load_dogs(root, cache_dir=tmp_path / "cache")
    printed = capsys.readouterr().out
    assert "6 dog images" in printed and "1 corrupt" in printed and "1 empty" in printed and "1 tiny" in printed
    saved = json.loads(open(report.cache_file.replace(".npy", ".json")).read())
    assert saved["crops"] == 6 and saved["skipped"]["corrupt"] == 1


def test_nothing_found_says_where_to_get_the_photos_and_how_to_extract_them(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetNotFoundError) as caught:
        load_dogs(empty, cache_dir=tmp_path / "cache", verbose=False)
    message = str(caught.value)
    assert message.startswith(f"No dog photos found in {empty}.")
    for words in ("http://vision.stanford.edu/aditya86/ImageNetDogs/", "kaggle.com/competitions/generative-dog-images",
                  "tar -xf images.tar", "Images/ (or all-dogs/) and Annotation/", "load_dogs(root=...)"):
        assert words in message
    assert list(empty.iterdir()) == []
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_dogs(tmp_path / "nowhere", cache_dir=tmp_path / "cache", verbose=False)


def test_annotations_without_photos_say_what_is_missing(tmp_path):
    root = tmp_path / "dogs"
    _write_folder(root, _stanford_files()[1])
    with pytest.raises(DatasetNotFoundError, match=r"No dog photos found in .* \(only the boxes, Annotation/\)"):
        load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)


def _write_tar(path, files):
    with tarfile.open(path, "w") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_archives_not_yet_extracted_are_named_with_the_way_to_extract_them(tmp_path):
    images, annotations = _stanford_files()
    root = tmp_path / "dogs"
    root.mkdir()
    _write_tar(root / "images.tar", images)
    _write_tar(root / "annotation.tar", annotations)
    with pytest.raises(DatasetNotFoundError, match="holds images.tar, annotation.tar, not extracted: extract them"):
        load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)
    with pytest.raises(DatasetNotFoundError, match="images.tar is a file: extract it and pass the folder"):
        load_dogs(root / "images.tar", cache_dir=tmp_path / "cache", verbose=False)

    # Kaggle's photos extracted, its boxes still zipped: not read as photos without boxes
    kaggle = tmp_path / "kaggle"
    _write_folder(kaggle, _kaggle_images(images))
    with zipfile.ZipFile(kaggle / "Annotation.zip", "w") as archive:
        for name, data in annotations:
            archive.writestr(name, data)
    with pytest.raises(DatasetNotFoundError, match="holds Annotation.zip, not extracted") as caught:
        load_dogs(kaggle, cache_dir=tmp_path / "cache", verbose=False)
    assert "unzip" in str(caught.value)

    # extracted, the same folder loads (the archives left beside the folders are ignored)
    _write_folder(root, images + annotations)
    assert load_dogs(root, cache_dir=tmp_path / "cache", verbose=False).report.crops == 6


def test_an_unreadable_box_file_is_counted_and_its_photo_used_whole(tmp_path):
    root = make_layout(tmp_path / "dogs", "stanford")
    (root / "Annotation" / CHIHUAHUA / "n02085620_1").write_bytes(b"<annotation><object>cut short")
    images, report = load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)
    assert report.skipped["bad annotation"] == 1 and report.no_box == 2
    # photo 1 whole: its 150x150 central square, grey around the red square
    assert report.crops == 6 and np.abs(images[0].reshape(-1, 3).mean(axis=0) - RED).max() > 40
    np.testing.assert_allclose(_centre_colour(images[0]), RED, atol=12)


def test_only_unusable_files_is_a_clear_error(tmp_path):
    root = tmp_path / "junk"
    root.mkdir()
    (root / "a.jpg").write_bytes(b"garbage")
    (root / "b.png").write_bytes(b"")
    with pytest.raises(CorruptDatasetError, match="None of the 2 image files"):
        load_dogs(root, cache_dir=tmp_path / "cache", verbose=False)


def _resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads resident memory from /proc (Linux)")
def test_preparing_big_photos_keeps_memory_bounded(tmp_path):
    """24 photos of 2400x1800 decode to 311 MB in all; preparing them must not hold that."""
    folder = tmp_path / "big"
    folder.mkdir()
    gradient = np.linspace(0, 255, 2400, dtype=np.uint8)[None, :, None].repeat(1800, 0).repeat(3, 2)
    buffer = io.BytesIO()
    Image.fromarray(gradient).save(buffer, format="JPEG", quality=90)
    for i in range(24):
        (folder / f"photo_{i:02d}.jpg").write_bytes(buffer.getvalue())
    del gradient
    before, peak, done = _resident_mb(), [0.0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _resident_mb())
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        images, report = load_dogs(folder, cache_dir=tmp_path / "cache", verbose=False)
    finally:
        done.set()
        watcher.join()
    assert images.shape == (24, 64, 64, 3) and report.crops == 24
    grown_mb = peak[0] - before
    assert grown_mb < 80, f"resident memory grew by {grown_mb:.0f} MB while preparing 24 big photos"


def test_pipeline_yields_augmented_batches_in_range(tmp_path):
    images = make_standin_dogs(10, seed=1)
    ds = dogs_dataset(images, batch_size=4, seed=0)
    batches = [b.numpy() for b in ds]
    assert [b.shape for b in batches] == [(4, 64, 64, 3), (4, 64, 64, 3), (2, 64, 64, 3)]
    assert all(b.dtype == np.float32 and b.min() >= -1.0 and b.max() <= 1.0 for b in batches)
    plain = dogs_dataset(images, batch_size=10, augment=False, shuffle=False)
    np.testing.assert_allclose(next(iter(plain)).numpy(), images / 127.5 - 1.0, atol=1e-6)
    # augmentation changes the images, differently each epoch
    fixed = dogs_dataset(images, batch_size=10, shuffle=False, seed=3)
    epoch_1, epoch_2 = next(iter(fixed)).numpy(), next(iter(fixed)).numpy()
    assert np.abs(epoch_1 - (images / 127.5 - 1.0)).mean() > 0.01
    assert np.abs(epoch_1 - epoch_2).mean() > 0.01


def test_pipeline_shuffles_every_image_once_per_epoch():
    images = np.arange(12, dtype=np.uint8)[:, None, None, None].repeat(64, 1).repeat(64, 2).repeat(3, 3) * 20
    ds = dogs_dataset(images, batch_size=5, augment=False, seed=0)
    epochs = [np.concatenate([b.numpy()[:, 0, 0, 0] for b in ds]) for _ in range(2)]
    expected = np.sort(images[:, 0, 0, 0] / 127.5 - 1.0)
    for order in epochs:
        np.testing.assert_allclose(np.sort(order), expected, atol=1e-6)
    assert not np.array_equal(epochs[0], epochs[1])


def test_augmentation_without_zoom_or_shear_flips_exactly():
    import tensorflow as tf

    images = tf.constant(make_standin_dogs(16, seed=2) / 127.5 - 1.0, tf.float32)
    out = augment_images(images, tf.constant([5, 6], tf.int64), zoom=0.0, shear=0.0).numpy()
    same = np.isclose(out, images.numpy(), atol=1e-5).all(axis=(1, 2, 3))
    mirrored = np.isclose(out, images.numpy()[:, :, ::-1], atol=1e-5).all(axis=(1, 2, 3))
    assert (same | mirrored).all() and same.any() and mirrored.any()


def test_pipeline_rejects_wrong_arrays():
    with pytest.raises(ValueError, match="uint8 of shape"):
        dogs_dataset(np.zeros((4, 64, 64), np.uint8))


def test_standin_is_labelled_loudly_when_the_photos_are_missing(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    images, report = load_dogs_or_standin(empty, standin_count=20, cache_dir=tmp_path / "cache")
    printed = capsys.readouterr().out
    assert "STAND-IN DATA" in printed and "NOT photographs" in printed
    assert report.standin and "STAND-IN" in str(report)
    assert images.shape == (20, 64, 64, 3) and images.dtype == np.uint8
    assert images.std() > 20  # not blank


def test_standin_is_not_used_when_the_photos_are_there(tmp_path):
    root = make_layout(tmp_path / "dogs", "kaggle")
    images, report = load_dogs_or_standin(root, cache_dir=tmp_path / "cache", verbose=False)
    assert not report.standin and images.shape == (6, 64, 64, 3)
